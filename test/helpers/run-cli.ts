/** Runs the built CLI (`dist/src/cli/main.js`, from `npx tsc -p .`) as a user would, without blocking the event loop. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { REPO_ROOT, repoPath } from './repo.js';

export const CLI = repoPath('dist/src/cli/main.js');

/** `serve` on a free port of 127.0.0.1 with this certificate pair: where every test that starts the server begins. */
export function loopbackServe(tls: { cert: string; key: string }): string[] {
  return ['serve', '--port', '0', '--host', '127.0.0.1', '--tls-cert', tls.cert, '--tls-key', tls.key];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Async on purpose: tests that serve a fake API server in this process must keep their event loop running while
 * the CLI talks to it. Runs from the repository root (or `cwd`) so that relative paths read as a user types them.
 */
export async function runCli(
  args: string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first with npx tsc -p .`);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, KUBECONFIG: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 90_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  return { code, stdout, stderr };
}

export interface Listening {
  port: number;
  probePort?: number;
  metricsPort?: number;
}

/** The ports of a spawned `serve`, from its "listening" log line; its exit before that rejects, with its stderr. */
export function listeningOf(child: ChildProcess): Promise<Listening> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Listening & { msg: string };
      if (entry.msg === 'sctp-guard listening') resolve(entry);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}
