import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { docFiles, RUNNABLE_FENCE, runnableBlocks, type DocBlock } from '../helpers/docs.js';
import { CLI, REPO_ROOT } from '../helpers/run-cli.js';

/**
 * Each ```` ```sh runnable ```` block of README.md and docs/*.md runs under `bash -euo pipefail` in a fresh temp folder
 * holding copies of `examples/` and `deploy/`, with the built CLI as `sctp-guard` on PATH, kubectl available and no
 * cluster; it passes when it exits 0.
 */
function sandbox(): { cwd: string; bin: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'sctp-guard-doc-'));
  const cwd = join(root, 'work');
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const dir of ['examples', 'deploy']) cpSync(join(REPO_ROOT, dir), join(cwd, dir), { recursive: true });
  writeFileSync(join(bin, 'sctp-guard'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'sctp-guard'), 0o755);
  return { cwd, bin, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function runBlock(block: DocBlock): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const box = sandbox();
  // No cluster: an empty KUBECONFIG and no in-cluster service account; NODE_OPTIONS (tap's loader) is dropped.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${box.bin}:${process.env.PATH ?? ''}`, KUBECONFIG: join(box.cwd, 'no-kubeconfig'), NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn('bash', ['-euo', 'pipefail', '-c', block.script], { cwd: box.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      box.cleanup();
      resolve({ code, stdout, stderr });
    });
  });
}

const all = docFiles().map((file) => ({ file, ...runnableBlocks(file, readFileSync(join(REPO_ROOT, file), 'utf8')) }));

t.test('the fence convention is spelt exactly', async (t) => {
  for (const { file, misspelt } of all) t.same(misspelt, [], `${file}: fences that mention "runnable" must read exactly ${RUNNABLE_FENCE}`);
  const parsed = runnableBlocks('x.md', ['```sh runnable', 'true', '```', '```sh', 'false', '```', '```bash runnable', 'x', '```'].join('\n'));
  t.same(parsed.blocks.map((b) => [b.line, b.script]), [[1, 'true']]);
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
    t.equal(r.code, 0, `${block.file}:${block.line} exits 0`, { script: block.script, stdout: r.stdout, stderr: r.stderr });
  });
}

t.test('a failing block fails', async (t) => {
  const r = await runBlock({ file: 'x.md', line: 1, script: 'sctp-guard check -f examples/ako-sctp-loadbalancer.yaml' });
  t.equal(r.code, 1, 'a denial inside a block is a failure of the block');
});
