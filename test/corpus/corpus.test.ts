import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { check } from '../../src/cli/check.js';
import { CORPUS_DIR, loadCorpus, run, type CorpusItem, type Verdict } from './corpus.js';

const corpus = loadCorpus();

const expected = (item: CorpusItem) => `${item.expect.verdict} ${[...(item.expect.rules ?? [])].sort().join(',')}`;

t.test('the corpus covers what the issue asks for', async (t) => {
  const sources = new Set(corpus.map((i) => i.source.repo));
  t.ok(corpus.length >= 60, `${corpus.length} items`);
  t.ok(sources.size >= 5, `${sources.size} upstream projects: ${[...sources].join(', ')}`);
  t.ok(
    corpus.some((i) => i.operation === 'UPDATE' && i.oldObject),
    'UPDATE cases',
  );
  t.ok(
    corpus.some((i) => i.clusterState),
    'cluster-state cases',
  );
  for (const item of corpus)
    t.ok(
      item.source.path && item.decidedBy && item.expect.verdict,
      `${item.file} names its source and the deciding upstream function`,
    );
});

t.test('every corpus item comes out as upstream decides (engine: mutate, then validate)', async (t) => {
  const wrong: Record<'falseDenials' | 'falseWarnings' | 'missedDenials' | 'other', string[]> = {
    falseDenials: [],
    falseWarnings: [],
    missedDenials: [],
    other: [],
  };
  for (const item of corpus) {
    const got = run(item);
    const actual = `${got.verdict} ${got.rules.join(',')}`;
    if (actual === expected(item)) continue;
    const line = `${item.file}: expected ${expected(item)}, got ${actual}: ${got.review.findings.map((f) => f.message).join(' | ')}`;
    if (got.verdict === 'deny') wrong.falseDenials.push(line);
    else if (item.expect.verdict === 'deny') wrong.missedDenials.push(line);
    else if (got.verdict === 'warn') wrong.falseWarnings.push(line);
    else wrong.other.push(line);
  }
  t.same(wrong, { falseDenials: [], falseWarnings: [], missedDenials: [], other: [] });
});

t.test('check gives every CREATE item the same verdict', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-corpus-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const groups = new Map<string, CorpusItem[]>();
  for (const item of corpus.filter((i) => i.operation === 'CREATE')) {
    const key = item.clusterState ?? '';
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  for (const [state, items] of groups) {
    const inputs = join(dir, state || 'no-state');
    for (const item of items) {
      const file = join(inputs, item.file);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, stringify(item.object));
    }
    // `check -o json -f <dir> [--cluster-state <dir>]`, in this process: its report is what it writes to stdout.
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    let code: number;
    try {
      code = await check({
        filename: [inputs],
        ...(state ? { clusterState: join(CORPUS_DIR, state) } : {}),
        output: 'json',
        mutate: false,
      });
    } finally {
      process.stdout.write = write;
    }
    t.not(code, 2, `check read ${inputs}`);
    const report = JSON.parse(out.join('')) as {
      objects: Array<{
        file: string;
        result: string;
        patch: unknown[];
        findings: Array<{ rule: string; decision: string }>;
      }>;
    };
    for (const item of items) {
      const o = report.objects.find((x) => x.file === join(inputs, item.file));
      const verdict: Verdict =
        o?.result === 'deny' ? 'deny' : (o?.patch.length ?? 0) > 0 ? 'patch' : o?.result === 'warn' ? 'warn' : 'allow';
      t.equal(verdict, item.expect.verdict, `${state || 'no state'}: ${item.file}`);
    }
  }
});
