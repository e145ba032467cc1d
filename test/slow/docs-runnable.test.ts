import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { docFiles, RUNNABLE_FENCE, runInSandbox, runnableBlocks, type DocBlock } from '../helpers/docs.js';
import { REPO_ROOT } from '../helpers/repo.js';

/**
 * Each ```` ```sh runnable ```` block of README.md and docs/*.md runs under `bash -euo pipefail` in a fresh temp folder
 * holding copies of `examples/` and `deploy/`, with the built CLI as `sctp-guard` on PATH, kubectl available and no
 * cluster; it passes when it exits 0.
 */
const runBlock = (block: DocBlock) => runInSandbox(block.script);

const all = docFiles().map((file) => ({ file, ...runnableBlocks(file, readFileSync(join(REPO_ROOT, file), 'utf8')) }));

t.test('the fence convention is spelt exactly', async (t) => {
  for (const { file, misspelt } of all)
    t.same(misspelt, [], `${file}: fences that mention "runnable" must read exactly ${RUNNABLE_FENCE}`);
  const parsed = runnableBlocks(
    'x.md',
    ['```sh runnable', 'true', '```', '```sh', 'false', '```', '```bash runnable', 'x', '```'].join('\n'),
  );
  t.same(
    parsed.blocks.map((b) => [b.line, b.script]),
    [[1, 'true']],
  );
  t.same(parsed.misspelt, [7]);
});

t.test('README and docs hold runnable blocks', async (t) => {
  t.ok(all.find((d) => d.file === 'README.md')!.blocks.length >= 2, 'the README shows a first check and a render');
});

// Started together (each block is a few CLI starts), asserted one by one.
const runs = all.flatMap(({ blocks }) => blocks.map((block) => ({ block, result: runBlock(block) })));
for (const { block, result } of runs) {
  t.test(`${block.file}:${block.line} runs`, async (t) => {
    const r = await result;
    t.equal(r.code, 0, `${block.file}:${block.line} exits 0`, {
      script: block.script,
      stdout: r.stdout,
      stderr: r.stderr,
    });
  });
}

t.test('a failing block fails', async (t) => {
  const r = await runBlock({
    file: 'x.md',
    line: 1,
    script: 'sctp-guard check -f examples/ako-sctp-loadbalancer.yaml',
  });
  t.equal(r.code, 1, 'a denial inside a block is a failure of the block');
});
