import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compileValidator, validatorsModule } from '../../../src/ignition/schemas/standalone.js';
import { issuesOf, validateConfig } from '../../../src/ignition/validate.js';
import { INPUT_VERSIONS } from '../../../src/ignition/versions.js';
import { isRecord } from '../../../src/util/json.js';
import { loadCorpus } from '../../corpus/corpus.js';
import { repoPath } from '../../helpers/repo.js';

t.test(
  'src/ignition/generated/validators.ts is what npm run generate:validators writes from the schemas',
  async (t) => {
    const file = readFileSync(repoPath('src/ignition/generated/validators.ts'), 'utf8');
    t.ok(file === validatorsModule(), 'stale: run npm run generate:validators');
  },
);

/** Every Ignition config the tests hold: corpus objects and cluster states, translation goldens, examples. */
function configs(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const specConfig = (o: unknown) => (isRecord(o) && isRecord(o.spec) ? o.spec.config : undefined);
  const add = (name: string, config: unknown) => {
    if (config !== undefined && config !== null) out.push([name, config]);
  };
  for (const item of loadCorpus()) {
    add(item.file, specConfig(item.object));
    add(`${item.file} (old)`, specConfig(item.oldObject));
  }
  const stateDir = repoPath('test/corpus/state');
  for (const state of readdirSync(stateDir)) {
    const list = JSON.parse(readFileSync(join(stateDir, state, 'machineconfigs.json'), 'utf8')) as { items: unknown[] };
    list.items.forEach((mc, i) => add(`${state} machineconfigs[${i}]`, specConfig(mc)));
  }
  const goldens = repoPath('test/fixtures/ignition');
  for (const file of readdirSync(goldens, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'))) {
    const g = JSON.parse(readFileSync(join(goldens, file), 'utf8')) as { input: unknown; expected: unknown };
    add(`${file} input`, g.input);
    add(`${file} expected`, g.expected);
  }
  for (const file of readdirSync(repoPath('examples')).filter((f) => /machineconfig.*\.ya?ml$/.test(f)))
    for (const doc of parseAllDocuments(readFileSync(repoPath('examples', file), 'utf8'), { version: '1.1' }))
      add(file, specConfig(doc.toJS()));
  return out;
}

t.test(
  'the generated validators give the issues of validators compiled at run time, on every config at every version',
  async (t) => {
    const corpus = configs();
    t.ok(corpus.length > 50, `${corpus.length} configs`);
    let issues = 0;
    for (const version of INPUT_VERSIONS) {
      const compiled = compileValidator(version);
      for (const [name, config] of corpus) {
        const expected = issuesOf(compiled, config, version);
        issues += expected.length;
        t.same(validateConfig(config, version), expected, `${name} as Ignition ${version}`);
      }
    }
    // Configs read at versions not their own: the comparison covers unknown fields and invalid values too.
    t.ok(issues > 100, `${issues} issues compared`);
  },
);
