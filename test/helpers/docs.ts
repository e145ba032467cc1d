import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './repo.js';
import { CLI } from './run-cli.js';

/**
 * The runnable-docs convention (docs/testing.md): a shell block in README.md or docs/*.md whose opening fence is
 * exactly ```` ```sh runnable ```` is executed by test/slow/docs-runnable.test.ts. Any other fence that mentions
 * "runnable" is a typo that would silently skip a block.
 */
export const RUNNABLE_FENCE = '```sh runnable';

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  script: string;
}

export function docFiles(root = REPO_ROOT): string[] {
  const docs = join(root, 'docs');
  const pages = readdirSync(docs)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...pages];
}

/** Runnable blocks, and fences that look meant to be runnable but are not spelt as the convention says. */
export function runnableBlocks(file: string, text: string): { blocks: DocBlock[]; misspelt: number[] } {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  const misspelt: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i]!.trimEnd();
    if (!fence.trimStart().startsWith('```')) continue;
    if (fence !== RUNNABLE_FENCE) {
      if (/runnable/.test(fence)) misspelt.push(i + 1);
      // Skip to the closing fence so that a block's body is never read as a fence.
      const close = lines.findIndex((l, j) => j > i && l.trim() === '```');
      if (close > i) i = close;
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 1}: runnable block is never closed`);
    blocks.push({ file, line: i + 1, script: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return { blocks, misspelt };
}

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

/**
 * Runs a docs script as the runnable convention says: `bash -euo pipefail` in a fresh temp folder holding copies of
 * `examples/` and `deploy/` (plus what `prepare` writes there), the built CLI as `sctp-guard` on PATH, kubectl
 * available, no cluster.
 */
export function runInSandbox(
  script: string,
  prepare?: (cwd: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const box = sandbox();
  prepare?.(box.cwd);
  // No cluster: an empty KUBECONFIG and no in-cluster service account.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${box.bin}:${process.env.PATH ?? ''}`,
    KUBECONFIG: join(box.cwd, 'no-kubeconfig'),
    NO_COLOR: '1',
  };
  delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: box.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
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

/** Every fenced block of a Markdown file with its language tag (`sh`, `yaml`, `sh runnable`) and the heading above it. */
export function fencedBlocks(file: string, text: string): Array<DocBlock & { lang: string; heading: string }> {
  const lines = text.split('\n');
  const out: Array<DocBlock & { lang: string; heading: string }> = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    if (line.startsWith('**') && /\*\*/.test(line.slice(2))) heading = line.slice(2, line.indexOf('**', 2));
    const open = /^```(.*)$/.exec(line.trimEnd());
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) break;
    out.push({ file, line: i + 1, lang: open[1]!.trim(), heading, script: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}
