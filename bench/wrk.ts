/**
 * `npm run bench -- --wrk`: the Service-mix comparison again, with load generators that share no code with the
 * bench's client. wrk (C, epoll, its own HTTP/1.1 code over OpenSSL) drives the bare Fastify server and sctp-guard
 * side by side in alternating rounds: at saturation, and at about `fixedRps` through wrk's per-request `delay()`
 * (wrk has no fixed-rate mode; wrk2 is not packaged by Debian). h2load (nghttp2's, C, OpenSSL) then offers fixed
 * rates, open loop: half the bare server's maximum wrk measured in that round, and `fixedRps`. Needs `wrk` on PATH
 * (`apt-get install wrk`); without h2load (`apt-get install nghttp2-client`) the fixed-rate rows say so.
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
import { Latencies } from './latencies.js';
import { spread, type Spread } from './report.js';
import { readCpuSeconds, startBaseline, startSctpGuard, type ServerProcess } from './servers.js';

/** One load generator run against one server, and that server's CPU meanwhile. */
interface WrkRun {
  requests: number;
  rps: number;
  /** h2load's runs: the rate offered. */
  offered?: number;
  p50Ms: number;
  p99Ms: number;
  /** Connect, read, write and timeout errors, and non-2xx/3xx answers. */
  faults: number;
  cpuUsPerRequest?: number;
}

/** wrk's modes, then h2load's fixed rates: half the bare maximum of the round, and `fixedRps`. */
const MODES = ['saturation', 'paced', 'half', 'realistic'] as const;
type Mode = (typeof MODES)[number];

export interface WrkComparison {
  wrkVersion: string;
  /** Undefined when h2load is not on PATH: the fixed-rate modes were not measured. */
  h2loadVersion?: string;
  /** Per server, per mode: the rounds. */
  runs: Record<'baseline' | 'sctp-guard', Record<Mode, WrkRun[]>>;
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

/** The server's CPU between two readings, per request answered (none when a reading failed or nothing was). */
function cpuPerRequest(
  before: number | undefined,
  after: number | undefined,
  requests: number,
): Pick<WrkRun, 'cpuUsPerRequest'> {
  return before !== undefined && after !== undefined && requests > 0
    ? { cpuUsPerRequest: Math.round(((after - before) * 1e6) / requests) }
    : {};
}

async function measure(server: ServerProcess, script: string, seconds: number, connections: number): Promise<WrkRun> {
  const cpu0 = readCpuSeconds(server.pid);
  const out = await runProcess('wrk', [
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
    ...cpuPerRequest(cpu0, cpu1, r.requests),
  };
}

/**
 * h2load's per-request log (`--log-file`): tab-separated start time (µs since the epoch), HTTP status and µs until
 * the end of the answer, one row per request; latencies in ms and the answers that were not 2xx.
 */
export function readH2loadLog(text: string): { latenciesMs: number[]; faults: number } {
  const latenciesMs: number[] = [];
  let faults = 0;
  for (const row of text.split('\n')) {
    if (row === '') continue;
    const [, status, us] = row.split('\t');
    const code = Number(status);
    if (!(code >= 200 && code < 300)) faults++;
    else latenciesMs.push(Number(us) / 1000);
  }
  return { latenciesMs, faults };
}

/** A connection of h2load carries at most this many requests a second (one in flight: a body is posted). */
const H2LOAD_RPS_PER_CLIENT = 250;

function runProcess(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${out}`))));
  });
}

/**
 * `rate` requests a second, open loop: every h2load client sends at its own `--rps` whether answers have come or
 * not (a request due while one is in flight waits for it, and its latency counts from when it was sent). h2load
 * posts one body per process, so each body of the mix gets its own process at an equal share of the rate, all at
 * once.
 */
async function measureFixed(
  server: ServerProcess,
  bodyFiles: readonly string[],
  rate: number,
  seconds: number,
  work: string,
): Promise<WrkRun> {
  const share = rate / bodyFiles.length;
  const clients = Math.max(1, Math.ceil(share / H2LOAD_RPS_PER_CLIENT));
  const logs = bodyFiles.map((_, i) => join(work, `h2load-${i}.tsv`));
  const cpu0 = readCpuSeconds(server.pid);
  await Promise.all(
    bodyFiles.map((body, i) =>
      runProcess('h2load', [
        '--h1',
        `--clients=${clients}`,
        `--rps=${share / clients}`,
        `--duration=${seconds}`,
        `--data=${body}`,
        '--header=content-type: application/json',
        `--log-file=${logs[i]}`,
        `https://127.0.0.1:${server.port}/validate`,
      ]),
    ),
  );
  const cpu1 = readCpuSeconds(server.pid);
  const latencies = new Latencies();
  let faults = 0;
  for (const log of logs) {
    const read = readH2loadLog(readFileSync(log, 'utf8'));
    // h2load appends to its log: the next run starts from none.
    rmSync(log);
    for (const ms of read.latenciesMs) latencies.record(ms);
    faults += read.faults;
  }
  const requests = latencies.count;
  const summary = latencies.summary();
  return {
    requests,
    rps: Math.round(requests / seconds),
    offered: Math.round(rate),
    p50Ms: summary.p50,
    p99Ms: summary.p99,
    faults,
    ...cpuPerRequest(cpu0, cpu1, requests),
  };
}

function h2loadVersion(): string | undefined {
  try {
    return execFileSync('h2load', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return undefined;
  }
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
    const entries = loadMixes(join(root, 'examples')).services;
    const requests = buildRequests(entries, 16);
    const h2load = h2loadVersion();
    if (!h2load) log('h2load not found on PATH: no fixed-rate rounds (Debian: apt-get install nghttp2-client)');
    const bodyFiles = buildRequests(entries, 1).map((r, i) => {
      const file = join(work, `body-${i}.json`);
      writeFileSync(file, r.body);
      return file;
    });
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
    const runs = Object.fromEntries(
      servers.map(([name]) => [name, Object.fromEntries(MODES.map((m) => [m, []]))]),
    ) as unknown as WrkComparison['runs'];
    for (let round = 0; round < opts.repeats; round++) {
      const record = (mode: Mode, name: (typeof servers)[number][0], r: WrkRun) => {
        const tool = r.offered === undefined ? 'wrk' : `h2load at ${r.offered} req/s`;
        log(
          `round ${round + 1}: ${name} ${mode} (${tool}): ${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.cpuUsPerRequest ?? '?'} CPU µs/req${r.faults ? `, ${r.faults} FAULTS` : ''}`,
        );
        runs[name][mode].push(r);
      };
      for (const [mode, script] of [
        ['saturation', saturation],
        ['paced', paced],
      ] as const) {
        for (const [name, s] of servers) record(mode, name, await measure(s, script, opts.seconds, opts.connections));
      }
      if (!h2load) continue;
      const half = runs.baseline.saturation[round]!.rps / 2;
      for (const [mode, rate] of [
        ['half', half],
        ['realistic', opts.fixedRps],
      ] as const) {
        for (const [name, s] of servers) record(mode, name, await measureFixed(s, bodyFiles, rate, opts.seconds, work));
      }
    }
    return { wrkVersion, ...(h2load ? { h2loadVersion: h2load } : {}), runs };
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
  const ratio = (mode: Mode, f: (r: WrkRun) => number | undefined) =>
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
    c.h2loadVersion
      ? `${c.h2loadVersion}; "half" and "realistic": a fixed offered rate, open loop (half the bare server's wrk maximum of the same round, and ${opts.fixedRps} req/s), one h2load process per body of the mix at an equal share, at most ${H2LOAD_RPS_PER_CLIENT} req/s per connection; latency from when each request was sent.`
      : `h2load was not on PATH: the fixed-rate rows ("half", "realistic") were not measured (Debian: apt-get install nghttp2-client).`,
    '',
    '| mode | server | offered req/s | req/s | p50 ms | p99 ms | CPU µs/req |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const mode of MODES) {
    if (c.runs.baseline[mode].length === 0) continue;
    for (const name of ['baseline', 'sctp-guard'] as const) {
      const runs = c.runs[name][mode];
      const offered = med(runs, (r) => r.offered).median;
      lines.push(
        `| ${mode} | ${name} | ${Number.isNaN(offered) ? '' : offered.toFixed(0)} | ${med(runs, (r) => r.rps).median.toFixed(0)} | ${med(runs, (r) => r.p50Ms).median.toFixed(2)} | ${med(runs, (r) => r.p99Ms).median.toFixed(2)} | ${med(runs, (r) => r.cpuUsPerRequest).median.toFixed(0)} |`,
      );
    }
    lines.push(
      `| ${mode} | **sctp-guard / baseline** | | ${show(
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
