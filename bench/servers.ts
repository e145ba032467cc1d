import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { request, type Agent } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BaselineReady } from './baseline.js';

/** A server under test, in its own process so that its RSS and CPU are its own. */
export interface ServerProcess {
  pid: number;
  port: number;
  /** From spawn until GET /readyz answered 200. */
  startupMs: number;
  /** What /readyz said when it turned ready (for sctp-guard: which cluster state it synced). */
  readyReason: string;
  stop(): Promise<void>;
}

export interface TlsFiles {
  ca: Buffer;
  cert: string;
  key: string;
}

const STDERR_TAIL = 4096;
const POLL_MS = 20;

function collectStderr(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-STDERR_TAIL);
  });
  return () => tail.trim();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One HTTPS call on a fresh connection (readiness polls, sample answers); not the load path. */
export function call(
  port: number,
  ca: Buffer,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  agent: Agent | false = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers =
      body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ host: '127.0.0.1', port, method, path, ca, headers, agent, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`))).on('error', reject);
    req.end(body);
  });
}

/** GET on a plain-HTTP loopback port (sctp-guard's probe listener). */
function plainGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`))).on('error', reject);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM (both servers shut down cleanly on it, which also writes a --cpu-prof profile), SIGKILL after 10 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  // ref: false, or the pending timer would hold the process open for 10 s after a clean exit.
  const killed = await Promise.race([exited(child).then(() => false), sleep(10_000, true, { ref: false })]);
  if (killed) {
    child.kill('SIGKILL');
    await exited(child);
  }
}

/** Polls /readyz (undefined: the port is not known yet) until 200; fails fast with the child's stderr when it dies first. */
async function waitReady(
  child: ChildProcess,
  readyz: () => Promise<{ status: number; body: string }> | undefined,
  started: number,
  timeoutMs: number,
  stderr: () => string,
  what: string,
): Promise<{ startupMs: number; readyReason: string }> {
  let lastError = '';
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${what} exited (${child.exitCode ?? child.signalCode}) before it was ready: ${stderr() || 'no output on stderr'}`,
      );
    }
    const answer = readyz();
    if (answer !== undefined) {
      try {
        const res = await answer;
        if (res.status === 200) {
          const readyReason = (JSON.parse(res.body) as { reason?: string }).reason ?? '';
          return { startupMs: performance.now() - started, readyReason };
        }
        lastError = `/readyz ${res.status}: ${res.body}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    await sleep(POLL_MS);
  }
  throw new Error(`${what} not ready after ${Math.round(timeoutMs / 1000)} s (${lastError}); stderr: ${stderr()}`);
}

export interface SctpGuardLaunch {
  mainJs: string;
  tls: TlsFiles;
  clusterState?: string;
  logLevel: string;
  extraArgs: string[];
  /** node flags, e.g. --cpu-prof. */
  nodeArgs: string[];
  readyTimeoutMs: number;
}

/** `sctp-guard serve` on a free loopback port; its audit log (stdout) goes to /dev/null, as cheap as a log pipe gets. */
export async function startSctpGuard(launch: SctpGuardLaunch): Promise<ServerProcess> {
  // serve takes a fixed --port, so the port is picked here; another process may take it in between: retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // Probes on their own plain-HTTP port, as in the cluster; no metrics listener (its scrape is not measured).
    const probePort = await freePort();
    const args = [
      ...launch.nodeArgs,
      launch.mainJs,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--health-probe-bind-address',
      `127.0.0.1:${probePort}`,
      '--metrics-bind-address',
      '0',
      '--tls-cert',
      launch.tls.cert,
      '--tls-key',
      launch.tls.key,
      '--log-level',
      launch.logLevel,
      ...(launch.clusterState ? ['--cluster-state', launch.clusterState] : []),
      ...launch.extraArgs,
    ];
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr = collectStderr(child);
    try {
      const ready = await waitReady(
        child,
        () => plainGet(probePort, '/readyz'),
        started,
        launch.readyTimeoutMs,
        stderr,
        'sctp-guard',
      );
      return { pid: child.pid!, port, ...ready, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      if (attempt < 3 && /EADDRINUSE/.test(stderr())) continue;
      throw err;
    }
  }
}

export interface BaselineLaunch {
  baselineJs: string;
  tls: TlsFiles;
  http2: boolean;
  nodeArgs: string[];
  readyTimeoutMs: number;
}

export async function startBaseline(launch: BaselineLaunch): Promise<ServerProcess> {
  const args = [
    ...launch.nodeArgs,
    launch.baselineJs,
    '--tls-cert',
    launch.tls.cert,
    '--tls-key',
    launch.tls.key,
    ...(launch.http2 ? ['--http2'] : []),
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const stderr = collectStderr(child);
  let port: number | undefined;
  child.once('message', (m) => {
    port = (m as BaselineReady).port;
    child.disconnect();
  });
  try {
    const ready = await waitReady(
      child,
      () => (port === undefined ? undefined : call(port, launch.tls.ca, 'GET', '/readyz')),
      started,
      launch.readyTimeoutMs,
      stderr,
      'baseline',
    );
    return { pid: child.pid!, port: port!, ...ready, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** The protocol the server picks when a client offers h2 and http/1.1 (the API server's webhook client does). */
export function negotiatedProtocol(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] },
      () => {
        const protocol = socket.alpnProtocol || 'http/1.1 (no ALPN)';
        socket.end();
        resolve(protocol);
      },
    );
    socket.once('error', reject);
  });
}

export interface MemoryStatus {
  rssBytes: number;
  /** Peak RSS since the process started (VmHWM). */
  hwmBytes: number;
}

/** VmRSS / VmHWM of a process (Linux /proc); undefined elsewhere or once it is gone. */
export function readMemory(pid: number): MemoryStatus | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const out = { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
    return Number.isFinite(out.rssBytes) && Number.isFinite(out.hwmBytes) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** User + system CPU seconds of a process so far, all threads (Linux /proc). */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Samples RSS every interval until stopped; returns the largest sample. */
export function sampleRss(pid: number, intervalMs = 200): () => number | undefined {
  let max: number | undefined;
  const take = () => {
    const m = readMemory(pid);
    if (m) max = Math.max(max ?? 0, m.rssBytes);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return () => {
    clearInterval(timer);
    take();
    return max;
  };
}
