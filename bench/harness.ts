import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts } from '../src/cli/certs.js';
import { generateCluster, writeClusterState } from './cluster-state.js';
import { repoRoot } from './repo.js';
import { runLive, runOffline, type LiveSummary, type OfflineResult } from './live.js';
import { runHttp1Load, runHttp2Load } from './load.js';
import { buildRequests, loadMixes, MIX_NAMES, type BenchRequest, type MixEntry, type MixName } from './mix.js';
import { stageCosts, stageShares, summarizeProfiles, type ProfileSummary } from './profile.js';
import {
  compare,
  evaluateGoals,
  phase,
  rounds,
  spread,
  type StageTable,
  liveGoals,
  readmeTable,
  withReadmeTable,
  scaling,
  toMarkdown,
  type AnswerSample,
  type BenchResults,
  type Http2Result,
  type Machine,
  type PhaseResult,
  type ServerResult,
  type Settings,
} from './report.js';
import {
  call,
  negotiatedProtocol,
  readCpuSeconds,
  readMemory,
  sampleRss,
  startBaseline,
  startSctpGuard,
  type ServerProcess,
  type TlsFiles,
} from './servers.js';

export interface BenchOptions extends Settings {
  readyTimeoutSeconds: number;
  /** Where results.json and results.md go. */
  outDir: string;
}

export const DEFAULT_OPTIONS: Omit<BenchOptions, 'outDir'> = {
  seconds: 5,
  warmupSeconds: 3,
  connections: 8,
  sizes: [10, 1000, 10000],
  renderedConfigs: 50,
  renderedConfigKiB: 500,
  seed: 20240115,
  logLevel: 'info',
  http2: true,
  cpuProf: false,
  readyTimeoutSeconds: 300,
  liveNodes: 10000,
  rolloutNodes: 2000,
  repeats: 3,
  fixedRps: 500,
  mixes: [...MIX_NAMES],
};

/** `--quick`: for iterating on a change: short phases, two sizes, no live/offline or HTTP/2 phases, still 3 rounds. */
export const QUICK_OPTIONS: Partial<BenchOptions> = {
  seconds: 2,
  warmupSeconds: 1,
  sizes: [10, 10000],
  liveNodes: 0,
  http2: false,
};

/** Each object of a mix appears this many times in the rotation, each time with its own request uid. */
const COPIES = 16;

function machine(loadAtStart: number): Machine {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown CPU',
    cpus: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
  };
}

const toMB = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round((bytes / 2 ** 20) * 10) / 10);

/** A measured phase: load from the client, RSS and CPU read from the server's /proc entry meanwhile. */
async function measure(
  server: ServerProcess,
  tls: TlsFiles,
  mix: MixName,
  requests: readonly BenchRequest[],
  opts: BenchOptions,
  protocol: PhaseResult['protocol'],
  rate?: number,
  extra: Pick<PhaseResult, 'pace' | 'repeat'> = {},
): Promise<PhaseResult> {
  const startUs = monotonicUs();
  const cpuBefore = readCpuSeconds(server.pid);
  const stopSampling = sampleRss(server.pid);
  const settings = { seconds: opts.seconds, concurrency: opts.connections, ...(rate ? { rate } : {}) };
  const target = { port: server.port, ca: tls.ca };
  const load =
    protocol === 'h2' ? await runHttp2Load(target, requests, settings) : await runHttp1Load(target, requests, settings);
  const rss = stopSampling();
  const cpuAfter = readCpuSeconds(server.pid);
  const endUs = monotonicUs();
  const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return {
    mix,
    protocol,
    ...load,
    rssMB: toMB(rss),
    cpuPercent: cpu === undefined ? undefined : Math.round((cpu / load.seconds) * 1000) / 10,
    cpuUsPerRequest: cpu === undefined || load.requests === 0 ? undefined : Math.round((cpu * 1e6) / load.requests),
    ...(rate ? { offeredRps: rate } : {}),
    ...extra,
    windowUs: [startUs, endUs],
  };
}

/** CLOCK_MONOTONIC in µs: the clock V8's profiler stamps samples with, so a phase's samples can be picked out. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** One request per object, to record what sctp-guard decided for each (the baseline's answer is constant). */
async function sampleAnswers(
  server: ServerProcess,
  tls: TlsFiles,
  mixes: Record<MixName, MixEntry[]>,
  requests: Record<MixName, BenchRequest[]>,
): Promise<Record<MixName, AnswerSample[]>> {
  const out = { services: [], workloads: [], machineconfigs: [] } as Record<MixName, AnswerSample[]>;
  for (const mix of MIX_NAMES) {
    for (const [i, entry] of mixes[mix].entries()) {
      const req = requests[mix].find((r) => r.entry === i)!;
      const t0 = performance.now();
      const res = await call(server.port, tls.ca, 'POST', req.path, req.body);
      const ms = Math.round((performance.now() - t0) * 1000) / 1000;
      if (res.status !== 200) {
        out[mix].push({ entry: entry.label, status: res.status, message: res.body.slice(0, 200), ms });
        continue;
      }
      const r =
        (
          JSON.parse(res.body) as {
            response?: { allowed?: boolean; patch?: string; warnings?: string[]; status?: { message?: string } };
          }
        ).response ?? {};
      out[mix].push({
        entry: entry.label,
        status: res.status,
        allowed: r.allowed,
        patched: r.patch !== undefined,
        warnings: r.warnings?.length ?? 0,
        message: r.status?.message?.split('\n')[0]?.slice(0, 160),
        ms,
      });
    }
  }
  return out;
}

/** The flags this build of `serve` has: the harness runs against whatever the tree offers today. */
function serveFlags(mainJs: string): Set<string> {
  const help = execFileSync(process.execPath, [mainJs, 'serve', '--help'], { encoding: 'utf8' });
  return new Set(help.match(/--[a-z0-9-]+/g) ?? []);
}

export type Log = (line: string) => void;

const describe = (p: PhaseResult) =>
  `${Math.round(p.rps).toLocaleString('en-US')} req/s, p50 ${p.latencyMs.p50.toFixed(2)} ms, p99 ${p.latencyMs.p99.toFixed(2)} ms, p99.9 ${p.latencyMs.p99_9.toFixed(2)} ms` +
  `${p.cpuPercent === undefined ? '' : `, server CPU ${Math.round(p.cpuPercent)}%`}${p.errors + p.timeouts + p.non2xx > 0 ? `, FAULTS: ${p.errors} errors ${p.timeouts} timeouts ${p.non2xx} non-2xx` : ''}`;

/**
 * The whole benchmark: baseline, then sctp-guard per cluster size, each in its own process on loopback, each
 * phase bounded by `seconds`. Writes results.json and results.md into outDir and returns the results.
 */
export async function runBench(
  opts: BenchOptions,
  log: Log = (line) => process.stderr.write(`[bench] ${line}\n`),
): Promise<BenchResults> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0]!;
  const root = repoRoot();
  const mainJs = join(root, 'dist/src/cli/main.js');
  const baselineJs = join(root, 'dist/bench/baseline.js');
  for (const f of [mainJs, baselineJs])
    if (!existsSync(f)) throw new Error(`${f} is missing: build first (npm run build)`);
  if (opts.sizes.length === 0) throw new Error('no cluster sizes to measure');
  // Smallest first: it is the reference the baseline and the larger clusters are compared with.
  const sizes = [...new Set(opts.sizes)].sort((a, b) => a - b);

  const work = mkdtempSync(join(tmpdir(), 'sctp-guard-bench-'));
  const running = new Set<ServerProcess>();
  const stop = async (s: ServerProcess) => {
    running.delete(s);
    await s.stop();
  };
  try {
    const certs = writeDevCerts({ dir: join(work, 'certs'), days: 1 });
    const tls: TlsFiles = { ca: readFileSync(certs.caCert), cert: certs.cert, key: certs.key };
    const mixes = loadMixes(join(root, 'examples'));
    const requests = Object.fromEntries(MIX_NAMES.map((m) => [m, buildRequests(mixes[m], COPIES)])) as Record<
      MixName,
      BenchRequest[]
    >;
    const readyTimeoutMs = opts.readyTimeoutSeconds * 1000;
    const profileDir = (id: string) => join(work, 'profiles', id);
    const nodeArgs = (id: string) => (opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir(id)}`] : []);
    const flags = serveFlags(mainJs);
    // The V8 flags the Deployment sets (NODE_OPTIONS in deploy/base/deployment.yaml: heap limit, young generation):
    // every sctp-guard server runs with them, as in the cluster.
    const v8Flags = deploymentV8Flags(readFileSync(join(root, 'deploy/base/deployment.yaml'), 'utf8'));
    // Stop at once on SIGTERM: the drain delay is for rolling updates behind a Service, not for a benchmark.
    const serveArgs = flags.has('--shutdown-delay') ? ['--shutdown-delay', '0'] : [];

    // Each mix on its own for the whole warm-up: with the three mixed, the MachineConfigs' large bodies took most
    // of it, and the first Service round was the highest of every run (V8 had not optimized its code yet).
    const warm = async (server: ServerProcess, protocol: PhaseResult['protocol'] = 'http/1.1') => {
      if (opts.warmupSeconds <= 0) return;
      const run = protocol === 'h2' ? runHttp2Load : runHttp1Load;
      for (const mix of opts.mixes)
        await run({ port: server.port, ca: tls.ca }, requests[mix], {
          seconds: opts.warmupSeconds,
          concurrency: opts.connections,
        });
    };
    const startGuard = (id: string, stateDir: string, extraArgs: string[]) =>
      startSctpGuard({
        mainJs,
        tls,
        clusterState: stateDir,
        logLevel: opts.logLevel,
        extraArgs: [...serveArgs, ...extraArgs],
        nodeArgs: [...nodeArgs(id), ...v8Flags],
        readyTimeoutMs,
      });
    const profiles: ProfileSummary[] = [];
    const stages: StageTable[] = [];
    // Only what the server did once ready: start-up and state loading are reported as start-up time.
    const collectProfiles = (id: string, server: ServerProcess) => {
      if (opts.cpuProf && existsSync(profileDir(id)))
        profiles.push(...summarizeProfiles(profileDir(id), server.startupMs).map((p) => ({ ...p, server: id })));
    };
    const reason = (server: ServerProcess) => server.readyReason.replaceAll(work, '$TMP');

    // Live and offline first, alone on the machine: their figures are memory and CPU of one process.
    let liveSummary: LiveSummary | undefined;
    let offline: OfflineResult[] | undefined;
    if (opts.liveNodes > 0) {
      const spec = {
        renderedConfigs: opts.renderedConfigs,
        renderedConfigBytes: opts.renderedConfigKiB * 1024,
        seed: opts.seed,
      };
      const startLive = (id: string, args: string[]) =>
        startSctpGuard({
          mainJs,
          tls,
          logLevel: opts.logLevel,
          extraArgs: [...serveArgs, ...args],
          nodeArgs: [...nodeArgs(id), ...v8Flags],
          readyTimeoutMs,
        });
      const liveOptions = {
        seconds: opts.seconds,
        connections: opts.connections,
        rolloutNodes: opts.rolloutNodes,
        start: startLive,
        tls,
        // The Service + Pod mix: Pods are where the node count could show (placement over 10,000 labelled nodes).
        requests: [...requests.services, ...requests.workloads],
        work,
        log,
      };
      const smallNodes = Math.max(1, Math.round(opts.liveNodes / 10));
      const small = await runLive(
        { ...liveOptions, spec: { ...spec, nodes: smallNodes }, syncOnly: true },
        generateCluster({ ...spec, nodes: smallNodes }),
      );
      const cluster = generateCluster({ ...spec, nodes: opts.liveNodes });
      const big = await runLive({ ...liveOptions, spec: { ...spec, nodes: opts.liveNodes } }, cluster);
      const growth =
        big.rssSettledMB !== undefined && small.rssSettledMB !== undefined
          ? ((big.rssSettledMB - small.rssSettledMB) * 1000) / (opts.liveNodes - smallNodes)
          : undefined;
      liveSummary = {
        runs: [small, big],
        ...(growth !== undefined ? { mbPer1000Nodes: Math.round(growth * 10) / 10 } : {}),
      };
      offline = await runOffline({ start: startLive, work, log }, cluster);
      rmSync(join(work, 'offline-yaml'), { recursive: true, force: true });
      rmSync(join(work, 'offline-json'), { recursive: true, force: true });
    }

    // Every server is started first and kept running; each mix is then measured on all of them back to back, so
    // that a change in the machine's load during the run shifts every server alike.
    const live: Array<{ server: ServerProcess; result: ServerResult }> = [];
    const baselineServer = await startBaseline({
      baselineJs,
      tls,
      http2: false,
      readyTimeoutMs,
      nodeArgs: nodeArgs('baseline'),
    });
    running.add(baselineServer);
    log(`baseline ready in ${baselineServer.startupMs.toFixed(0)} ms (pid ${baselineServer.pid})`);
    live.push({
      server: baselineServer,
      result: {
        id: 'baseline',
        kind: 'baseline',
        startupMs: baselineServer.startupMs,
        readyReason: reason(baselineServer),
        rssIdleMB: toMB(readMemory(baselineServer.pid)?.rssBytes),
        phases: [],
      },
    });

    const states: string[] = [];
    for (const nodes of sizes) {
      const id = `sctp-guard@${nodes}`;
      const stateDir = join(work, `state-${nodes}`);
      const { dir: _dir, ...state } = writeClusterState(stateDir, {
        nodes,
        renderedConfigs: opts.renderedConfigs,
        renderedConfigBytes: opts.renderedConfigKiB * 1024,
        seed: opts.seed,
      });
      states.push(stateDir);
      log(
        `cluster state of ${nodes} nodes: ${state.files} files, ${(state.bytes / 2 ** 20).toFixed(1)} MB, generated in ${(state.generateMs / 1000).toFixed(1)} s`,
      );
      const server = await startGuard(id, stateDir, []);
      running.add(server);
      log(`${id} ready in ${server.startupMs.toFixed(0)} ms (pid ${server.pid}): ${server.readyReason}`);
      const rssIdleMB = toMB(readMemory(server.pid)?.rssBytes);
      const answers = await sampleAnswers(server, tls, mixes, requests);
      live.push({
        server,
        result: {
          id,
          kind: 'sctp-guard',
          nodes,
          clusterState: state,
          startupMs: server.startupMs,
          readyReason: reason(server),
          rssIdleMB,
          phases: [],
          answers,
        },
      });
    }

    for (const { server } of live) await warm(server);
    // Alternating rounds: each mix on every server back to back, the whole sequence `repeats` times, so that a
    // change in the machine's load hits every server alike; ratios are taken within a round.
    for (let repeat = 0; repeat < opts.repeats; repeat++) {
      for (const mix of opts.mixes) {
        for (const { server, result } of live) {
          const p = await measure(server, tls, mix, requests[mix], opts, 'http/1.1', undefined, { repeat });
          log(`round ${repeat + 1}: ${result.id} ${mix}: ${describe(p)}`);
          result.phases.push(p);
        }
      }
    }
    // Latency at the same load for both: the Service mix at half the baseline's maximum and at a realistic fixed
    // rate; and each cluster size's MachineConfig mutations at half its own maximum.
    const [base, ...guardServers] = live;
    const medianRps = (r: ServerResult, mix: MixName) => phase(r, mix)?.rps ?? 0;
    const baseRps = opts.mixes.includes('services') ? medianRps(base!.result, 'services') : 0;
    for (let repeat = 0; repeat < opts.repeats; repeat++) {
      for (const [pace, rate] of [
        ['half-max', Math.round(baseRps / 2)],
        ['fixed', opts.fixedRps],
      ] as const) {
        if (rate <= 0) continue;
        for (const { server, result } of [base!, guardServers[0]!]) {
          const p = await measure(server, tls, 'services', requests.services, opts, 'http/1.1', rate, { pace, repeat });
          log(`round ${repeat + 1}: ${result.id} services at ${p.offeredRps} req/s offered: ${describe(p)}`);
          result.phases.push(p);
        }
      }
      for (const { server, result } of guardServers) {
        const mcRps = medianRps(result, 'machineconfigs');
        if (mcRps <= 0) continue;
        const p = await measure(
          server,
          tls,
          'machineconfigs',
          requests.machineconfigs,
          opts,
          'http/1.1',
          Math.max(1, Math.round(mcRps / 2)),
          { pace: 'half-max', repeat },
        );
        log(`round ${repeat + 1}: ${result.id} machineconfigs at ${p.offeredRps} req/s offered: ${describe(p)}`);
        result.phases.push(p);
      }
    }
    const protocol = await negotiatedProtocol(live[1]!.server.port, tls.ca);
    for (const { server, result } of live) {
      result.rssLoadMB = maxRss(result.phases);
      // The kernel updates VmHWM lazily: a sample taken under load can be above it.
      const hwm = toMB(readMemory(server.pid)?.hwmBytes);
      result.peakRssMB = hwm === undefined ? result.rssLoadMB : Math.max(hwm, result.rssLoadMB ?? 0);
      await stop(server);
      collectProfiles(result.id, server);
      if (opts.cpuProf) stages.push(...stageTables(profileDir(result.id), result));
    }
    const servers = live.map((l) => l.result);

    // HTTP/2 is measured against servers started with it on (sctp-guard: --http2, off by default), Service mix.
    let http2: Http2Result = {
      offered: false,
      protocol,
      note: `not offered: a client offering h2 and http/1.1 gets ${protocol}, and serve has no --http2 flag`,
    };
    if (!opts.http2)
      http2 = { offered: flags.has('--http2'), protocol, note: 'not measured (http2 off in the bench settings)' };
    else if (flags.has('--http2')) {
      const id = `sctp-guard-h2@${sizes[0]}`;
      const guard = await startGuard(id, states[0]!, ['--http2']);
      running.add(guard);
      const h2protocol = await negotiatedProtocol(guard.port, tls.ca);
      if (h2protocol === 'h2') {
        const base = await startBaseline({
          baselineJs,
          tls,
          http2: true,
          readyTimeoutMs,
          nodeArgs: nodeArgs('baseline-h2'),
        });
        running.add(base);
        await warm(base, 'h2');
        await warm(guard, 'h2');
        const baselineH2 = await measure(base, tls, 'services', requests.services, opts, 'h2');
        const sctpGuard = await measure(guard, tls, 'services', requests.services, opts, 'h2');
        await stop(base);
        collectProfiles('baseline-h2', base);
        http2 = {
          offered: true,
          protocol: h2protocol,
          note: `offered with serve --http2 (off by default: then ALPN picks ${protocol})`,
          baseline: baselineH2,
          sctpGuard,
        };
        log(`HTTP/2 services: baseline ${describe(baselineH2)}; sctp-guard ${describe(sctpGuard)}`);
      } else {
        http2 = {
          offered: false,
          protocol: h2protocol,
          note: `not offered: serve --http2 was given, yet ALPN picked ${h2protocol}`,
        };
      }
      await stop(guard);
      collectProfiles(id, guard);
    }
    if (!http2.baseline) log(`HTTP/2: ${http2.note}`);
    for (const dir of states) rmSync(dir, { recursive: true, force: true });

    const baseline = servers[0]!;
    const reference = servers.find((s) => s.kind === 'sctp-guard')!;
    const results: BenchResults = {
      schemaVersion: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machine(loadAtStart),
      settings: {
        seconds: opts.seconds,
        warmupSeconds: opts.warmupSeconds,
        connections: opts.connections,
        sizes,
        renderedConfigs: opts.renderedConfigs,
        renderedConfigKiB: opts.renderedConfigKiB,
        seed: opts.seed,
        logLevel: opts.logLevel,
        http2: opts.http2,
        cpuProf: opts.cpuProf,
        liveNodes: opts.liveNodes,
        rolloutNodes: opts.rolloutNodes,
        repeats: opts.repeats,
        fixedRps: opts.fixedRps,
        mixes: opts.mixes,
      },
      mixes: Object.fromEntries(
        MIX_NAMES.map((m) => {
          const bytes = requests[m].map((r) => Buffer.byteLength(r.body));
          return [
            m,
            {
              entries: mixes[m].map((e) => e.label),
              requests: requests[m].length,
              bodyBytes: { min: Math.min(...bytes), max: Math.max(...bytes) },
            },
          ];
        }),
      ) as BenchResults['mixes'],
      servers,
      http2,
      comparisons: compare(baseline, reference),
      scaling: scaling(servers),
      goals: [...evaluateGoals(servers), ...liveGoals(liveSummary, offline)],
      ...(liveSummary ? { live: liveSummary } : {}),
      ...(offline ? { offline } : {}),
      ...(opts.cpuProf ? { profiles, stages } : {}),
    };
    mkdirSync(opts.outDir, { recursive: true });
    writeFileSync(join(opts.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(opts.outDir, 'results.md'), toMarkdown(results));
    if (opts.outDir === join(root, 'bench')) {
      const readme = join(root, 'README.md');
      writeFileSync(readme, withReadmeTable(readFileSync(readme, 'utf8'), readmeTable(results)));
    }
    if (opts.cpuProf) log(`raw CPU profiles kept in ${join(work, 'profiles')}`);
    return results;
  } finally {
    await Promise.all([...running].map((s) => s.stop()));
    if (!opts.cpuProf) rmSync(work, { recursive: true, force: true });
  }
}

/** `--max-old-space-size=192 --max-semi-space-size=4` of the NODE_OPTIONS entry, as separate arguments. */
export function deploymentV8Flags(deploymentYaml: string): string[] {
  const value = /name: NODE_OPTIONS\s+value: ([^\n]+)/.exec(deploymentYaml)?.[1] ?? '';
  return value.split(/\s+/).filter((f) => /^--max-(old|semi)-space-size=\d+$/.test(f));
}

/** Per mix, the CPU per request of each stage over the server's saturation phases (its profile, its /proc CPU). */
function stageTables(dir: string, result: ServerResult): StageTable[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length !== 1) return [];
  return MIX_NAMES.flatMap((mix) => {
    const list = rounds(result, mix);
    const cpu = spread(list.map((p) => p.cpuUsPerRequest ?? NaN)).median;
    if (list.length === 0 || !Number.isFinite(cpu)) return [];
    const shares = stageShares(
      join(dir, files[0]!),
      list.flatMap((p) => (p.windowUs ? [p.windowUs] : [])),
    );
    return [{ server: result.id, mix, cpuUsPerRequest: cpu, stages: stageCosts(shares, cpu) }];
  });
}

function maxRss(phases: readonly PhaseResult[]): number | undefined {
  const values = phases.map((p) => p.rssMB).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : Math.max(...values);
}
