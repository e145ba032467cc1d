/**
 * `npm run bench -- --wrk`: the Service-mix comparison again, with another load generator. wrk (C, epoll, its own
 * TLS and HTTP/1.1 code: nothing of Node's or autocannon's) drives the bare Fastify server and sctp-guard side by
 * side in alternating rounds: at saturation, and at about `fixedRps` through wrk's per-request `delay()` (wrk has no
 * fixed-rate mode; wrk2 is not packaged by Debian). Needs `wrk` on PATH (`apt-get install wrk`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts } from '../src/cli/certs.js';
import { writeClusterState } from './cluster-state.js';
import { deploymentV8Flags, type BenchOptions, type Log } from './harness.js';
import { buildRequests, loadMixes, type BenchRequest } from './mix.js';
import { repoRoot } from './repo.js';
import { spread, type Spread } from './report.js';
import { readCpuSeconds, startBaseline, startSctpGuard, type ServerProcess } from './servers.js';

/** One wrk run against one server, and that server's CPU meanwhile. */
interface WrkRun {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Connect, read, write and timeout errors, and non-2xx/3xx answers. */
  faults: number;
  cpuUsPerRequest?: number;
}

export interface WrkComparison {
  wrkVersion: string;
  /** Per server, per mode: the rounds. */
  runs: Record<'baseline' | 'sctp-guard', Record<'saturation' | 'paced', WrkRun[]>>;
}

/**
 * The Lua script: the Service mix's bodies in rotation, `delay` ms between an answer and the next request on a
 * connection, and one JSON line at the end (latency in µs from wrk's own histogram).
 */
export function wrkScript(requests: readonly BenchRequest[], delayMs: number): string {
  const quote = (s: string) => {
    let level = '';
    while (s.includes(`]${level}]`)) level += '=';
    return `[${level}[${s}]${level}]`;
  };
  return [
    `local paths = { ${requests.map((r) => quote(r.path)).join(', ')} }`,
    `local bodies = { ${requests.map((r) => quote(r.body)).join(', ')} }`,
    'local i = 0',
    'wrk.method = "POST"',
    'wrk.headers["Content-Type"] = "application/json"',
    'request = function()',
    '  i = i % #bodies + 1',
    '  return wrk.format(nil, paths[i], nil, bodies[i])',
    'end',
    ...(delayMs > 0 ? [`delay = function() return ${delayMs} end`] : []),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'WRK {"requests":%d,"us":%d,"p50":%d,"p99":%d,"faults":%d}\\n\',',
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),',
    '    e.connect + e.read + e.write + e.status + e.timeout))',
    'end',
  ].join('\n');
}

function runWrk(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

async function measure(server: ServerProcess, script: string, seconds: number, connections: number): Promise<WrkRun> {
  const cpu0 = readCpuSeconds(server.pid);
  const out = await runWrk([
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '-s',
    script,
    `https://127.0.0.1:${server.port}/validate`,
  ]);
  const cpu1 = readCpuSeconds(server.pid);
  const line = /^WRK (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error(`no summary in wrk's output: ${out}`);
  const r = JSON.parse(line) as { requests: number; us: number; p50: number; p99: number; faults: number };
  return {
    requests: r.requests,
    rps: Math.round((r.requests * 1e6) / r.us),
    p50Ms: r.p50 / 1000,
    p99Ms: r.p99 / 1000,
    faults: r.faults,
    ...(cpu0 !== undefined && cpu1 !== undefined && r.requests > 0
      ? { cpuUsPerRequest: Math.round(((cpu1 - cpu0) * 1e6) / r.requests) }
      : {}),
  };
}

export async function runWrkComparison(opts: BenchOptions, log: Log): Promise<WrkComparison> {
  let wrkVersion: string;
  try {
    wrkVersion = execFileSync('wrk', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch (err) {
    // wrk prints its version and usage and exits 1.
    const out = (err as { stdout?: string }).stdout ?? '';
    if (!/^wrk /.test(out)) throw new Error('wrk not found on PATH: install it (Debian: apt-get install wrk)');
    wrkVersion = out.split('\n')[0]!.trim();
  }
  const root = repoRoot();
  const work = mkdtempSync(join(tmpdir(), 'sctp-guard-wrk-'));
  const running: ServerProcess[] = [];
  try {
    const certs = writeDevCerts({ dir: join(work, 'certs'), days: 1 });
    const tls = { ca: readFileSync(certs.caCert), cert: certs.cert, key: certs.key };
    const state = join(work, 'state');
    writeClusterState(state, {
      nodes: opts.sizes[0]!,
      renderedConfigs: opts.renderedConfigs,
      renderedConfigBytes: opts.renderedConfigKiB * 1024,
      seed: opts.seed,
    });
    const requests = buildRequests(loadMixes(join(root, 'examples')).services, 16);
    // The Service mix goes to /validate only: the script's paths are the requests' own.
    const saturation = join(work, 'saturation.lua');
    writeFileSync(saturation, wrkScript(requests, 0));
    // Each connection waits `delay` after an answer: about connections × 1000 / (delay + latency) requests/s.
    const paced = join(work, 'paced.lua');
    writeFileSync(paced, wrkScript(requests, Math.max(0, Math.round((opts.connections * 1000) / opts.fixedRps) - 1)));
    const readyTimeoutMs = opts.readyTimeoutSeconds * 1000;
    const baseline = await startBaseline({
      baselineJs: join(root, 'dist/bench/baseline.js'),
      tls,
      http2: false,
      nodeArgs: [],
      readyTimeoutMs,
    });
    running.push(baseline);
    const guard = await startSctpGuard({
      mainJs: join(root, 'dist/src/cli/main.js'),
      tls,
      clusterState: state,
      logLevel: opts.logLevel,
      extraArgs: ['--shutdown-delay', '0'],
      nodeArgs: deploymentV8Flags(readFileSync(join(root, 'deploy/base/deployment.yaml'), 'utf8')),
      readyTimeoutMs,
    });
    running.push(guard);
    const servers = [
      ['baseline', baseline],
      ['sctp-guard', guard],
    ] as const;
    for (const [, s] of servers) await measure(s, saturation, Math.max(1, opts.warmupSeconds), opts.connections);
    const runs: WrkComparison['runs'] = {
      baseline: { saturation: [], paced: [] },
      'sctp-guard': { saturation: [], paced: [] },
    };
    for (let round = 0; round < opts.repeats; round++) {
      for (const [mode, script] of [
        ['saturation', saturation],
        ['paced', paced],
      ] as const) {
        for (const [name, s] of servers) {
          const r = await measure(s, script, opts.seconds, opts.connections);
          log(
            `wrk round ${round + 1}: ${name} ${mode}: ${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.cpuUsPerRequest ?? '?'} CPU µs/req${r.faults ? `, ${r.faults} FAULTS` : ''}`,
          );
          runs[name][mode].push(r);
        }
      }
    }
    return { wrkVersion, runs };
  } finally {
    for (const s of running) await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The comparison as a markdown table: medians of the rounds, and the per-round ratios' median and spread. */
export function wrkMarkdown(
  c: WrkComparison,
  opts: Pick<BenchOptions, 'connections' | 'seconds' | 'fixedRps'>,
): string {
  const med = (runs: WrkRun[], f: (r: WrkRun) => number | undefined): Spread =>
    spread(runs.map((r) => f(r) ?? Number.NaN));
  const ratio = (mode: 'saturation' | 'paced', f: (r: WrkRun) => number | undefined) =>
    spread(
      c.runs['sctp-guard'][mode].map((g, i) => {
        const b = c.runs.baseline[mode][i];
        return b ? (f(g) ?? Number.NaN) / (f(b) ?? Number.NaN) : Number.NaN;
      }),
    );
  const show = (s: Spread, digits: number) =>
    `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}, ${s.n} rounds)`;
  const lines = [
    `${c.wrkVersion}; Service mix to /validate, HTTP/1.1 keep-alive over TLS, ${opts.connections} connections, one wrk thread, ${opts.seconds} s per run; "paced": each connection waits after every answer so as to offer about ${opts.fixedRps} req/s (closed loop: no correction for coordinated omission).`,
    '',
    '| mode | server | req/s | p50 ms | p99 ms | CPU µs/req |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const mode of ['saturation', 'paced'] as const) {
    for (const name of ['baseline', 'sctp-guard'] as const) {
      const runs = c.runs[name][mode];
      lines.push(
        `| ${mode} | ${name} | ${med(runs, (r) => r.rps).median.toFixed(0)} | ${med(runs, (r) => r.p50Ms).median.toFixed(2)} | ${med(runs, (r) => r.p99Ms).median.toFixed(2)} | ${med(runs, (r) => r.cpuUsPerRequest).median.toFixed(0)} |`,
      );
    }
    lines.push(
      `| ${mode} | **sctp-guard / baseline** | ${show(
        ratio(mode, (r) => r.rps),
        2,
      )} | | ${show(
        ratio(mode, (r) => r.p99Ms),
        2,
      )} | ${show(
        ratio(mode, (r) => r.cpuUsPerRequest),
        2,
      )} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
