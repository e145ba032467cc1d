import type { ClusterStateSummary } from './cluster-state.js';
import type { LiveSummary, OfflineResult } from './live.js';
import type { LoadResult } from './load.js';
import { MIX_NAMES, type MixName } from './mix.js';
import type { ProfileSummary, StageCost } from './profile.js';

/** Shape of bench/results.json. */

export interface PhaseResult extends LoadResult {
  mix: MixName;
  protocol: 'http/1.1' | 'h2';
  /** Largest RSS sampled while the phase ran. */
  rssMB?: number;
  /** Server CPU over the phase, in % of one core (100 = one core busy: the server, not the client, is the limit). */
  cpuPercent?: number;
  cpuUsPerRequest?: number;
  /** Paced phase: the rate the client offered (req/s); absent when it sent as fast as it was answered. */
  offeredRps?: number;
  /** Paced phases: `half-max` (half the maximum measured before) or `fixed` (a realistic rate, the same on every run). */
  pace?: 'half-max' | 'fixed';
  /** Which of the alternating rounds (0-based): every ratio is taken within one round, then the median over rounds. */
  repeat?: number;
  /** Monotonic clock (µs, CLOCK_MONOTONIC as V8's profiler stamps its samples) at the start and end of the phase. */
  windowUs?: [number, number];
}

export interface AnswerSample {
  entry: string;
  status: number;
  allowed?: boolean;
  patched?: boolean;
  warnings?: number;
  message?: string;
  /** Latency of this request, the server's first of its kind (for MachineConfigs: the first of its Ignition version). */
  ms?: number;
}

export interface ServerResult {
  id: string;
  kind: 'baseline' | 'sctp-guard';
  nodes?: number;
  clusterState?: Omit<ClusterStateSummary, 'dir'>;
  startupMs: number;
  readyReason: string;
  rssIdleMB?: number;
  rssLoadMB?: number;
  /** Peak RSS, start-up included: VmHWM at the end, or a higher sample taken under load. */
  peakRssMB?: number;
  phases: PhaseResult[];
  answers?: Record<MixName, AnswerSample[]>;
}

export interface Http2Result {
  offered: boolean;
  /** What sctp-guard's ALPN picked when offered h2 and http/1.1. */
  protocol: string;
  note: string;
  baseline?: PhaseResult;
  sctpGuard?: PhaseResult;
}

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average at the start and at the end of the run: other work on the machine skews numbers. */
  loadAverage: { start: number; end: number };
}

export interface Settings {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  sizes: number[];
  renderedConfigs: number;
  renderedConfigKiB: number;
  seed: number;
  logLevel: string;
  /** Measure HTTP/2 too when sctp-guard offers it. */
  http2: boolean;
  cpuProf: boolean;
  /** Nodes of the live phase's cluster (0: no live and offline phases); a tenth of it is the smaller size. */
  liveNodes: number;
  /** Nodes moved by the rollout during the live phase. */
  rolloutNodes: number;
  /** Alternating rounds of every measured phase (each ratio is the median over them). */
  repeats: number;
  /** The realistic fixed rate of the paced Service phases (req/s), next to half the baseline's maximum. */
  fixedRps: number;
  /** The mixes measured (all by default; e.g. only machineconfigs while working on them). */
  mixes: MixName[];
}

/** A figure measured once per round: its median and its spread over the rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface Comparison {
  mix: MixName;
  throughput: Spread;
  p50: Spread;
  p99: Spread;
  p99_9: Spread;
}

export interface Goal {
  id:
    | 'throughput'
    | 'p99'
    | 'mutation-p99'
    | 'scaling-p99'
    | 'rss'
    | 'live-rss-steady'
    | 'live-rss-peak'
    | 'node-event-cpu'
    | 'rollout-p99'
    | 'offline-yaml'
    | 'offline-json';
  goal: string;
  measured: string;
  /** null: not measurable in this run (e.g. one cluster size only). */
  pass: boolean | null;
  note?: string;
}

export interface Scaling {
  mix: MixName;
  p99Ratio: Spread;
  rpsRatio: Spread;
}

export interface BenchResults {
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  settings: Settings;
  mixes: Record<MixName, { entries: string[]; requests: number; bodyBytes: { min: number; max: number } }>;
  servers: ServerResult[];
  http2: Http2Result;
  /** sctp-guard at the smallest cluster size divided by the baseline. */
  comparisons: Comparison[];
  /** p99 at the largest cluster size divided by p99 at the smallest (median over rounds). */
  scaling: Scaling[];
  goals: Goal[];
  live?: LiveSummary;
  offline?: OfflineResult[];
  profiles?: ProfileSummary[];
  /** CPU per request of each stage, per server and mix, from the profiles (--cpu-prof). */
  stages?: StageTable[];
}

export interface StageTable {
  server: string;
  mix: MixName;
  /** CPU µs per request of the whole server in this mix (median over rounds, /proc). */
  cpuUsPerRequest: number;
  stages: StageCost[];
}

export const GOALS = {
  throughput: 0.85,
  p99: 1.5,
  p99Fixed: 1.2,
  mutationP99Ms: 5,
  scalingP99: 1.2,
  rssMB: 200,
  liveSteadyMB: 150,
  livePeakMB: 200,
  nodeEventMs: 0.2,
  rolloutP99: 1.5,
  offlineMB: 200,
} as const;

/** The saturation phases of a mix, one per round: as many requests as the server answers. */
export function rounds(server: ServerResult | undefined, mix: MixName, pace?: PhaseResult['pace']): PhaseResult[] {
  return (server?.phases ?? []).filter(
    (p) =>
      p.mix === mix &&
      p.protocol === 'http/1.1' &&
      (pace === undefined ? p.offeredRps === undefined : p.offeredRps !== undefined && (p.pace ?? 'half-max') === pace),
  );
}

/** The round with the median throughput (saturation) or median p99 (paced): the one a table row shows. */
function medianRound(list: PhaseResult[], by: (p: PhaseResult) => number): PhaseResult | undefined {
  if (list.length === 0) return undefined;
  return [...list].sort((a, b) => by(a) - by(b))[Math.floor((list.length - 1) / 2)];
}

/** The saturation phase of a mix (the median round). */
export function phase(server: ServerResult | undefined, mix: MixName): PhaseResult | undefined {
  return medianRound(rounds(server, mix), (p) => p.rps);
}

/** The paced phase of a mix at half the maximum (or at the fixed rate), the median round by p99. */
export function pacedPhase(
  server: ServerResult | undefined,
  mix: MixName,
  pace: PhaseResult['pace'] = 'half-max',
): PhaseResult | undefined {
  return medianRound(rounds(server, mix, pace), (p) => p.latencyMs.p99);
}

export function spread(values: readonly number[]): Spread {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** metric(a) / metric(b) in each round both were measured in (alternating rounds: the same machine load). */
export function pairedRatios(a: PhaseResult[], b: PhaseResult[], metric: (p: PhaseResult) => number): Spread {
  const out: number[] = [];
  for (const pa of a) {
    const pb = b.find((x) => (x.repeat ?? 0) === (pa.repeat ?? 0));
    if (pb) out.push(ratio(metric(pa), metric(pb)));
  }
  return spread(out);
}

/** `1.23 (1.10–1.40, 3 rounds)`. */
export function fmtSpread(s: Spread, digits = 2): string {
  if (s.n === 0) return 'n/a';
  return s.n === 1
    ? fmt(s.median, digits)
    : `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)}, ${s.n} rounds)`;
}

export function sctpGuardServers(servers: readonly ServerResult[]): ServerResult[] {
  return servers.filter((s) => s.kind === 'sctp-guard').sort((a, b) => (a.nodes ?? 0) - (b.nodes ?? 0));
}

function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

export function compare(baseline: ServerResult, guard: ServerResult): Comparison[] {
  return MIX_NAMES.flatMap((mix) => {
    const b = rounds(baseline, mix);
    const g = rounds(guard, mix);
    if (b.length === 0 || g.length === 0) return [];
    const r = (m: (p: PhaseResult) => number) => pairedRatios(g, b, m);
    return [
      {
        mix,
        throughput: r((p) => p.rps),
        p50: r((p) => p.latencyMs.p50),
        p99: r((p) => p.latencyMs.p99),
        p99_9: r((p) => p.latencyMs.p99_9),
      },
    ];
  });
}

/** Per mix, the largest cluster's p99 and throughput over the smallest's, round by round. */
export function scaling(servers: readonly ServerResult[]): Scaling[] {
  const guards = sctpGuardServers(servers);
  if (guards.length < 2) return [];
  const small = guards[0]!;
  const large = guards[guards.length - 1]!;
  return MIX_NAMES.flatMap((mix) => {
    const s = rounds(small, mix);
    const l = rounds(large, mix);
    return s.length > 0 && l.length > 0
      ? [{ mix, p99Ratio: pairedRatios(l, s, (p) => p.latencyMs.p99), rpsRatio: pairedRatios(l, s, (p) => p.rps) }]
      : [];
  });
}

/** A phase with transport errors or non-2xx answers measured something else than admission: its goal fails. */
function faults(phases: Array<PhaseResult | undefined>): string | undefined {
  const bad = phases.filter((p): p is PhaseResult => p !== undefined && p.errors + p.timeouts + p.non2xx > 0);
  return bad.length === 0
    ? undefined
    : bad.map((p) => `${p.mix}: ${p.errors} errors, ${p.timeouts} timeouts, ${p.non2xx} non-2xx`).join('; ');
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const nodesLabel = (n: number | undefined) => (n ?? 0).toLocaleString('en-US');

export function evaluateGoals(servers: readonly ServerResult[]): Goal[] {
  const baseline = servers.find((s) => s.kind === 'baseline');
  const guards = sctpGuardServers(servers);
  const small = guards[0];
  const large = guards.length > 1 ? guards[guards.length - 1] : undefined;
  const goals: Goal[] = [];
  const check = (g: Omit<Goal, 'pass'>, pass: boolean | null, phases: Array<PhaseResult | undefined>) => {
    const fault = faults(phases);
    goals.push(
      fault ? { ...g, pass: false, note: [g.note, `faults: ${fault}`].filter(Boolean).join('; ') } : { ...g, pass },
    );
  };

  const bs = rounds(baseline, 'services');
  const gs = rounds(small, 'services');
  if (bs.length > 0 && gs.length > 0) {
    const t = pairedRatios(gs, bs, (p) => p.rps);
    const [bm, gm] = [phase(baseline, 'services')!, phase(small, 'services')!];
    check(
      {
        id: 'throughput',
        goal: `throughput ≥ ${GOALS.throughput} × baseline (Service mix)`,
        measured: `${fmtSpread(t)}; ${Math.round(gm.rps)} vs ${Math.round(bm.rps)} req/s`,
      },
      t.median >= GOALS.throughput,
      [...bs, ...gs],
    );
    // At the same offered rate (half the baseline's maximum) when the run has paced phases: at saturation a p99
    // is mostly queueing behind the slower server's own backlog.
    const [bp, gp] = [rounds(baseline, 'services', 'half-max'), rounds(small, 'services', 'half-max')];
    const paced = bp.length > 0 && gp.length > 0;
    const [b99, g99] = paced ? [bp, gp] : [bs, gs];
    const p = pairedRatios(g99, b99, (x) => x.latencyMs.p99);
    const [bmed, gmed] = paced ? [pacedPhase(baseline, 'services')!, pacedPhase(small, 'services')!] : [bm, gm];
    const at = paced ? `both at ${Math.round(bp[0]!.offeredRps!)} req/s offered` : 'at saturation';
    // And at a realistic fixed rate, when the run has one: one goal, both conditions.
    const [bf, gf] = [rounds(baseline, 'services', 'fixed'), rounds(small, 'services', 'fixed')];
    const f = bf.length > 0 && gf.length > 0 ? pairedRatios(gf, bf, (x) => x.latencyMs.p99) : undefined;
    const fixed = f
      ? `; at ${Math.round(bf[0]!.offeredRps!)} req/s ${fmtSpread(f)}, ${fmt(pacedPhase(small, 'services', 'fixed')!.latencyMs.p99)} vs ${fmt(pacedPhase(baseline, 'services', 'fixed')!.latencyMs.p99)} ms`
      : '';
    check(
      {
        id: 'p99',
        goal: `p99 ≤ ${GOALS.p99} × baseline p99 at the same offered rate${f ? ` (half the baseline's maximum) and ≤ ${GOALS.p99Fixed} × at ${Math.round(bf[0]!.offeredRps!)} req/s` : ''} (Service mix)`,
        measured: `${fmtSpread(p)}; ${fmt(gmed.latencyMs.p99)} vs ${fmt(bmed.latencyMs.p99)} ms, ${at}${fixed}`,
      },
      p.median <= GOALS.p99 && (!f || f.median <= GOALS.p99Fixed),
      [...b99, ...g99, ...bf, ...gf],
    );
  }

  // Each size's paced MachineConfig phase (half its own maximum) when there is one, else its saturation phase; the
  // first MachineConfig request of each Ignition version the server saw counts too (it used to compile validators).
  const mc = guards
    .map((s) => {
      const paced = rounds(s, 'machineconfigs', 'half-max');
      const list = paced.length > 0 ? paced : rounds(s, 'machineconfigs');
      const first = Math.max(0, ...(s.answers?.machineconfigs ?? []).map((a) => a.ms ?? 0));
      return { s, list, p99: spread(list.map((p) => p.latencyMs.p99)), first };
    })
    .filter((x) => x.list.length > 0);
  if (mc.length > 0) {
    const worst = mc.reduce((a, b) => (b.p99.median > a.p99.median ? b : a));
    const firstWorst = Math.max(...mc.map((x) => x.first));
    const offered = worst.list[0]!.offeredRps;
    const at = offered !== undefined ? `${Math.round(offered)} req/s offered` : 'at saturation';
    check(
      {
        id: 'mutation-p99',
        goal: `MachineConfig mutation p99 < ${GOALS.mutationP99Ms} ms at half its maximum rate (every cluster size), first request of a version included`,
        measured: `${fmtSpread(worst.p99)} ms (worst: ${nodesLabel(worst.s.nodes)} nodes, ${at}); first request of a version ${fmt(firstWorst)} ms`,
      },
      worst.p99.median < GOALS.mutationP99Ms && firstWorst < GOALS.mutationP99Ms,
      mc.flatMap((x) => x.list),
    );
  }

  if (small && large) {
    const ratios = scaling(servers);
    const worst = ratios.reduce((a, b) => (b.p99Ratio.median > a.p99Ratio.median ? b : a));
    check(
      {
        id: 'scaling-p99',
        goal: `p99 at ${nodesLabel(large.nodes)} nodes ≤ ${GOALS.scalingP99} × p99 at ${nodesLabel(small.nodes)} (every mix)`,
        measured: `${fmtSpread(worst.p99Ratio)} (worst: ${worst.mix})`,
      },
      worst.p99Ratio.median <= GOALS.scalingP99,
      MIX_NAMES.flatMap((m) => [...rounds(small, m), ...rounds(large, m)]),
    );
  } else {
    goals.push({
      id: 'scaling-p99',
      goal: `p99 at the largest cluster ≤ ${GOALS.scalingP99} × p99 at the smallest`,
      measured: 'n/a',
      pass: null,
      note: 'needs two cluster sizes',
    });
  }

  const biggest = large ?? small;
  if (biggest) {
    const rss = biggest.rssLoadMB;
    goals.push(
      rss === undefined
        ? {
            id: 'rss',
            goal: `RSS under load at ${nodesLabel(biggest.nodes)} nodes < ${GOALS.rssMB} MB`,
            measured: 'n/a',
            pass: null,
            note: 'no /proc: RSS not measurable here',
          }
        : {
            id: 'rss',
            goal: `RSS under load at ${nodesLabel(biggest.nodes)} nodes < ${GOALS.rssMB} MB`,
            measured: `${fmt(rss, 1)} MB (peak incl. start-up ${fmt(biggest.peakRssMB ?? NaN, 1)} MB)`,
            pass: rss < GOALS.rssMB,
          },
    );
  }
  return goals;
}

/** The goals of the live and offline phases (issue 14), on the largest live run. */
export function liveGoals(live: LiveSummary | undefined, offline: readonly OfflineResult[] | undefined): Goal[] {
  const goals: Goal[] = [];
  const run = live?.runs[live.runs.length - 1];
  if (run) {
    const n = nodesLabel(run.nodes);
    const judge = (v: number | undefined, limit: number) => (v === undefined || run.error ? false : v < limit);
    goals.push({
      id: 'live-rss-steady',
      goal: `live, ${n} nodes: RSS under load < ${GOALS.liveSteadyMB} MB`,
      measured: `${mb(run.rssSteadyMB)} MB (settled ${mb(run.rssSettledMB)} MB)`,
      pass: judge(run.rssSteadyMB, GOALS.liveSteadyMB),
      ...(run.error ? { note: run.error } : {}),
    });
    goals.push({
      id: 'live-rss-peak',
      goal: `live, ${n} nodes: peak RSS (sync, rollout, relist) < ${GOALS.livePeakMB} MB`,
      measured: `${mb(run.peakMB)} MB (sync ${mb(run.peakSyncMB)}, rollout ${mb(run.rollout?.peakMB)}, relist ${mb(run.relist?.peakMB)})`,
      pass: judge(run.peakMB, GOALS.livePeakMB),
    });
    goals.push({
      id: 'node-event-cpu',
      goal: `CPU per Node event at ${n} nodes < ${GOALS.nodeEventMs} ms`,
      measured: `${run.nodeEventCpuMs ?? 'n/a'} ms (rendered MachineConfig event: ${run.machineConfigEventCpuMs ?? 'n/a'} ms)`,
      pass: judge(run.nodeEventCpuMs, GOALS.nodeEventMs),
    });
    const q = run.quiet?.latencyMs.p99;
    const r = run.rollout?.latencyMs.p99;
    const ratio = q && r ? r / q : NaN;
    goals.push({
      id: 'rollout-p99',
      goal: `decision p99 during a ${int(run.rollout?.events)}-node rollout ≤ ${GOALS.rolloutP99} × quiet p99`,
      measured: `${fmt(ratio)} (${fmt(r ?? NaN)} vs ${fmt(q ?? NaN)} ms)`,
      pass: Number.isFinite(ratio) ? ratio <= GOALS.rolloutP99 : false,
    });
  }
  for (const o of offline ?? []) {
    goals.push({
      id: o.format === 'yaml' ? 'offline-yaml' : 'offline-json',
      goal: `offline ${o.format.toUpperCase()} List dump of ${nodesLabel(o.nodes)} nodes (${fmt(o.fileMB, 0)} MB) loads, peak RSS < ${GOALS.offlineMB} MB`,
      measured: o.error
        ? `failed: ${o.error}`
        : `${mb(o.peakMB)} MB peak, ready in ${fmt((o.readyMs ?? NaN) / 1000, 1)} s`,
      pass: !o.error && o.peakMB !== undefined && o.peakMB < GOALS.offlineMB,
    });
  }
  return goals;
}

/** The live and offline phases as markdown. */
export function liveMarkdown(live: LiveSummary | undefined, offline: readonly OfflineResult[] | undefined): string[] {
  const lines: string[] = [];
  if (live) {
    lines.push(
      '**Live** (`serve --kubeconfig` against the in-process list/watch API server; real-sized Nodes, rendered MachineConfigs):',
    );
    lines.push('');
    lines.push(
      '| nodes | Node / rendered config JSON | ready after | RSS settled MB | RSS under load MB | peak MB (sync / rollout / relist / run) | CPU per Node event ms | CPU per rendered-config event ms | p99 quiet ms | p99 during rollout ms | relist s |',
    );
    lines.push('|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|');
    for (const r of live.runs) {
      lines.push(
        `| ${nodesLabel(r.nodes)} | ${fmt(r.nodeBytes / 1024, 1)} KB / ${fmt(r.renderedConfigBytes / 1024, 0)} KB | ${fmt(r.readyMs / 1000, 1)} s | ${mb(r.rssSettledMB)} | ${mb(r.rssSteadyMB)} | ${mb(r.peakSyncMB)} / ${mb(r.rollout?.peakMB)} / ${mb(r.relist?.peakMB)} / ${mb(r.peakMB)} | ${r.nodeEventCpuMs ?? 'n/a'} | ${r.machineConfigEventCpuMs ?? 'n/a'} | ${fmt(r.quiet?.latencyMs.p99 ?? NaN)} | ${fmt(r.rollout?.latencyMs.p99 ?? NaN)} | ${fmt((r.relist?.ms ?? NaN) / 1000, 1)} |${r.error ? ` error: ${r.error}` : ''}`,
      );
    }
    if (live.mbPer1000Nodes !== undefined)
      lines.push('', `Settled RSS per 1,000 extra nodes: ${fmt(live.mbPer1000Nodes, 1)} MB.`);
    lines.push('');
  }
  if (offline && offline.length > 0) {
    lines.push('**Offline** (`serve --cluster-state DIR` with one `kind: List` dump of the same cluster):');
    lines.push('');
    lines.push('| format | file MB | ready after | RSS settled MB | peak MB |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const o of offline)
      lines.push(
        `| ${o.format} | ${fmt(o.fileMB, 1)} | ${o.error ? `failed: ${o.error.replace(/\|/g, '\\|')}` : `${fmt((o.readyMs ?? NaN) / 1000, 1)} s`} | ${mb(o.rssSettledMB)} | ${mb(o.peakMB)} |`,
      );
    lines.push('');
  }
  return lines;
}

const passLabel = (pass: boolean | null) => (pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL');
const int = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : Math.round(n).toLocaleString('en-US');
const mb = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(1));
const serverLabel = (s: ServerResult) =>
  s.kind === 'baseline' ? 'baseline' : `sctp-guard, ${nodesLabel(s.nodes)} nodes`;

function phaseRow(label: string, s: ServerResult, p: PhaseResult): string {
  return `| ${label} | ${serverLabel(s)} | ${int(p.rps)} | ${fmt(p.latencyMs.p50)} | ${fmt(p.latencyMs.p99)} | ${fmt(p.latencyMs.p99_9)} | ${p.cpuPercent === undefined ? 'n/a' : Math.round(p.cpuPercent)} | ${int(p.cpuUsPerRequest)} | ${mb(p.rssMB)} |`;
}

export function machineLine(m: Machine): string {
  return `${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node} (load average ${m.loadAverage.start.toFixed(1)} at the start, ${m.loadAverage.end.toFixed(1)} at the end)`;
}

/** The markdown report: what `npm run bench` prints and writes to bench/results.md. */
export function toMarkdown(r: BenchResults): string {
  const s = r.settings;
  const lines: string[] = [];
  const baseline = r.servers.find((x) => x.kind === 'baseline');
  const guards = sctpGuardServers(r.servers);
  const ref = guards[0];
  lines.push(`Machine: ${machineLine(r.machine)}.`);
  lines.push(
    `Run ${r.startedAt}: HTTPS (TLS settings of src/server/tls.ts) on 127.0.0.1, HTTP/1.1 keep-alive, ${s.connections} connections, ` +
      `${s.seconds} s per phase after ${s.warmupSeconds} s of warm-up per mix; sctp-guard log level ${s.logLevel}; cluster states of ` +
      `${s.sizes.map(nodesLabel).join(' / ')} nodes with ${s.renderedConfigs} rendered MachineConfigs of ~${s.renderedConfigKiB} KiB.`,
  );
  lines.push('');
  lines.push(
    `**Against a bare Fastify HTTPS server** (same TLS, same JSON parsing, constant answer); sctp-guard with the ${nodesLabel(ref?.nodes)}-node state; ${s.repeats} alternating rounds of every phase, rows show the median round, ratios are the median of the per-round ratios with their spread:`,
  );
  lines.push('');
  lines.push('| mix | server | req/s | p50 ms | p99 ms | p99.9 ms | server CPU % | CPU µs/req | RSS MB |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const mix of MIX_NAMES) {
    for (const srv of [baseline, ref]) {
      const p = phase(srv, mix);
      if (srv && p) lines.push(phaseRow(mix, srv, p));
    }
    const c = r.comparisons.find((x) => x.mix === mix);
    if (c)
      lines.push(
        `| ${mix} | **sctp-guard / baseline** | ${fmtSpread(c.throughput)} | ${fmtSpread(c.p50)} | ${fmtSpread(c.p99)} | ${fmtSpread(c.p99_9)} | | | |`,
      );
  }
  const paced = [baseline, ...guards].flatMap((srv) =>
    srv
      ? MIX_NAMES.flatMap((mix) =>
          (['half-max', 'fixed'] as const).flatMap((pace) =>
            rounds(srv, mix, pace).length > 0 ? [{ srv, mix, pace, list: rounds(srv, mix, pace) }] : [],
          ),
        )
      : [],
  );
  if (paced.length > 0) {
    lines.push('');
    lines.push(
      `**At a fixed offered rate** (half the maximum measured above, and a realistic ${int(s.fixedRps)} req/s: latency without the queue of a saturated server; median of the rounds, spread in brackets):`,
    );
    lines.push('');
    lines.push('| mix | server | offered req/s | p50 ms | p99 ms | p99.9 ms |');
    lines.push('|---|---|---:|---:|---:|---:|');
    for (const { srv, mix, list } of paced) {
      const m = (f: (p: PhaseResult) => number) => fmtSpread(spread(list.map(f)));
      lines.push(
        `| ${mix} | ${serverLabel(srv)} | ${int(list[0]!.offeredRps)} | ${m((p) => p.latencyMs.p50)} | ${m((p) => p.latencyMs.p99)} | ${m((p) => p.latencyMs.p99_9)} |`,
      );
    }
  }
  lines.push('');
  lines.push('**By cluster size** (sctp-guard):');
  lines.push('');
  lines.push(
    '| nodes | state on disk | ready after | services p99 ms | workloads p99 ms | machineconfigs p99 ms | RSS idle MB | RSS under load MB | peak RSS MB |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const g of guards) {
    const p99 = (mix: MixName) => fmt(phase(g, mix)?.latencyMs.p99 ?? NaN);
    const disk = g.clusterState ? `${(g.clusterState.bytes / 1024 / 1024).toFixed(1)} MB` : 'n/a';
    lines.push(
      `| ${nodesLabel(g.nodes)} | ${disk} | ${(g.startupMs / 1000).toFixed(2)} s | ${p99('services')} | ${p99('workloads')} | ${p99('machineconfigs')} | ${mb(g.rssIdleMB)} | ${mb(g.rssLoadMB)} | ${mb(g.peakRssMB)} |`,
    );
  }
  if (r.scaling.length > 0) {
    lines.push('');
    lines.push(
      `p99 ratio ${nodesLabel(guards[guards.length - 1]?.nodes)} / ${nodesLabel(ref?.nodes)} nodes: ${r.scaling.map((x) => `${x.mix} ${fmtSpread(x.p99Ratio)}`).join(', ')}; throughput ratio: ${r.scaling.map((x) => `${x.mix} ${fmtSpread(x.rpsRatio)}`).join(', ')}.`,
    );
  }
  if (ref) lines.push(`/readyz of sctp-guard said: "${ref.readyReason}".`);
  lines.push('');
  if (r.http2.offered && r.http2.baseline && r.http2.sctpGuard) {
    lines.push(`**HTTP/2** (${s.connections} streams on one connection, Service mix):`);
    lines.push('');
    lines.push('| server | req/s | p50 ms | p99 ms | p99.9 ms |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const [name, p] of [
      ['baseline', r.http2.baseline],
      ['sctp-guard', r.http2.sctpGuard],
    ] as const) {
      lines.push(
        `| ${name} | ${int(p.rps)} | ${fmt(p.latencyMs.p50)} | ${fmt(p.latencyMs.p99)} | ${fmt(p.latencyMs.p99_9)} |`,
      );
    }
  } else {
    lines.push(`**HTTP/2**: ${r.http2.note}`);
  }
  lines.push('');
  lines.push(...liveMarkdown(r.live, r.offline));
  lines.push(`**Goals** (one run; ratios are the median of ${s.repeats} alternating rounds):`);
  lines.push('');
  lines.push('| goal | measured | result |');
  lines.push('|---|---|---|');
  for (const g of r.goals)
    lines.push(`| ${g.goal} | ${g.measured}${g.note ? ` (${g.note})` : ''} | ${passLabel(g.pass)} |`);
  if (r.profiles && r.profiles.length > 0) {
    lines.push('');
    lines.push('**CPU profiles** (`--cpu-prof`, self time of the busy samples taken after /readyz turned 200):');
    for (const p of r.profiles) {
      lines.push('');
      lines.push(
        `- ${p.server ?? p.file} (${p.busyMs} ms busy): ${p.areas.map((a) => `${a.name} ${a.percent}%`).join(', ')}`,
      );
      lines.push(
        `  - top functions: ${p.functions
          .slice(0, 8)
          .map((f) => `${f.name} ${f.percent}%`)
          .join('; ')}`,
      );
    }
  }
  if (r.stages && r.stages.length > 0) lines.push(...stageMarkdown(r.stages));
  if (ref?.answers) {
    lines.push('');
    lines.push('**What sctp-guard answered** (one request per object of the mix):');
    lines.push('');
    lines.push('| mix | object | answer |');
    lines.push('|---|---|---|');
    for (const mix of MIX_NAMES) {
      for (const a of ref.answers[mix]) {
        const verdict =
          a.status !== 200 ? `HTTP ${a.status}` : a.allowed ? (a.patched ? 'allowed, patched' : 'allowed') : 'denied';
        const extra = [
          a.warnings ? `${a.warnings} warning${a.warnings > 1 ? 's' : ''}` : '',
          a.message ? a.message.replace(/\|/g, '\\|') : '',
        ]
          .filter(Boolean)
          .join('; ');
        lines.push(`| ${mix} | ${a.entry} | ${verdict}${extra ? `: ${extra}` : ''} |`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * CPU per request of each stage: each stage's share of the busy samples taken during a mix's saturation phases
 * (innermost stage on the stack wins), times the CPU per request /proc measured in those phases.
 */
function stageMarkdown(tables: readonly StageTable[]): string[] {
  const lines = [
    '',
    "**CPU per request by stage** (µs; `--cpu-prof` samples of the saturation phases, each stage's share of the busy samples × the CPU per request /proc measured; the profiler itself adds ~10%; the rows in bold are what sctp-guard costs over the bare server, stage by stage):",
    '',
  ];
  const names = [...new Set(tables.flatMap((t) => t.stages.map((s) => s.stage)))];
  lines.push(`| server | mix | total | ${names.join(' | ')} |`);
  lines.push(`|---|---|---:|${names.map(() => '---:').join('|')}|`);
  for (const t of tables) {
    const cost = (n: string) => t.stages.find((s) => s.stage === n)?.us;
    lines.push(
      `| ${t.server} | ${t.mix} | ${int(t.cpuUsPerRequest)} | ${names.map((n) => (cost(n) === undefined ? '' : fmt(cost(n)!, 0))).join(' | ')} |`,
    );
  }
  // What is left, per mix: the first sctp-guard server's cost over the bare server's, stage by stage.
  for (const mix of MIX_NAMES) {
    const base = tables.find((t) => t.server === 'baseline' && t.mix === mix);
    const guard = tables.find((t) => t.server.startsWith('sctp-guard@') && t.mix === mix);
    if (!base || !guard) continue;
    const cost = (t: StageTable, n: string) => t.stages.find((s) => s.stage === n)?.us ?? 0;
    lines.push(
      `| **${guard.server} − baseline** | ${mix} | **${int(guard.cpuUsPerRequest - base.cpuUsPerRequest)}** | ${names.map((n) => fmt(cost(guard, n) - cost(base, n), 0)).join(' | ')} |`,
    );
  }
  return lines;
}

export const README_MARKERS = ['<!-- bench:start -->', '<!-- bench:end -->'] as const;

/** The short table the README carries between its markers: every goal, and the machine it was measured on. */
export function readmeTable(r: BenchResults): string {
  const lines = [
    `Measured by \`npm run bench\` on ${r.startedAt.slice(0, 10)}: ${machineLine(r.machine)}. Details: [docs/benchmark.md](docs/benchmark.md).`,
    '',
    '| goal | measured | result |',
    '|---|---|---|',
  ];
  for (const g of r.goals) lines.push(`| ${g.goal} | ${g.measured} | ${passLabel(g.pass)} |`);
  return lines.join('\n');
}

/** `text` with what is between the README markers replaced by `table`; unchanged when the markers are missing. */
export function withReadmeTable(text: string, table: string): string {
  const [start, end] = README_MARKERS;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return text;
  return `${text.slice(0, a + start.length)}\n${table}\n${text.slice(b)}`;
}
