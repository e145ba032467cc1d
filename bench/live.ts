import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CORE_TYPES, FakeApiServer, OPENSHIFT_TYPES } from '../test/helpers/fake-apiserver.js';
import { writeListDump, type ClusterStateSpec, type GeneratedCluster } from './cluster-state.js';
import { runHttp1Load } from './load.js';
import type { BenchRequest } from './mix.js';
import { readCpuSeconds, readMemory, type ServerProcess, type TlsFiles } from './servers.js';
import type { LoadResult } from './load.js';

/**
 * The live and offline phases: sctp-guard fed by a list/watch API server (the fake API server the tests use, in
 * this process) holding real-sized Nodes and rendered MachineConfigs, then the same cluster as one `kind: List`
 * dump in YAML and in JSON. What they measure: time to ready, RSS (settled, under load, peak), CPU per watch
 * event, decision p99 quiet and during a rollout, and a relist after 410 Gone.
 */

export interface LiveResult {
  nodes: number;
  /** Average JSON size of one object as the API server serves it. */
  nodeBytes: number;
  renderedConfigBytes: number;
  readyMs: number;
  /** RSS 3 s after ready, no load. */
  rssSettledMB?: number;
  /** Largest RSS while the quiet load ran. */
  rssSteadyMB?: number;
  /** VmHWM when /readyz turned 200: the initial sync's peak. */
  peakSyncMB?: number;
  quiet?: LoadResult;
  rollout?: LoadResult & { events: number; peakMB?: number };
  /** CPU ms per Node MODIFIED event (a burst, no load): an upper bound, the server's timers included. */
  nodeEventCpuMs?: number;
  nodeEvents?: number;
  /** CPU ms per rendered MachineConfig ADDED event. */
  machineConfigEventCpuMs?: number;
  machineConfigEvents?: number;
  relist?: { ms: number; peakMB?: number };
  /** VmHWM at the end: the peak of everything above. */
  peakMB?: number;
  error?: string;
}

export interface LiveSummary {
  runs: LiveResult[];
  /** Settled RSS growth per 1,000 nodes between the two sizes. */
  mbPer1000Nodes?: number;
}

export interface OfflineResult {
  format: 'yaml' | 'json';
  nodes: number;
  fileMB: number;
  readyMs?: number;
  rssSettledMB?: number;
  peakMB?: number;
  error?: string;
}

export interface LiveOptions {
  spec: ClusterStateSpec;
  seconds: number;
  connections: number;
  rolloutNodes: number;
  /** Starts `serve` with these extra arguments (the bench adds --kubeconfig or --cluster-state). */
  start: (id: string, args: string[]) => Promise<ServerProcess>;
  tls: TlsFiles;
  requests: readonly BenchRequest[];
  work: string;
  log: (line: string) => void;
  /** Only sync and settle: the smaller size of the MB-per-node figure. */
  syncOnly?: boolean;
}

const MB = 2 ** 20;
const toMB = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round((bytes / MB) * 10) / 10);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Samples RSS every `intervalMs` until stopped; returns the largest sample in MB. */
function rssSampler(pid: number, intervalMs = 50): () => number | undefined {
  let max = 0;
  const take = () => (max = Math.max(max, readMemory(pid)?.rssBytes ?? 0));
  take();
  const timer = setInterval(take, intervalMs);
  return () => {
    clearInterval(timer);
    take();
    return max > 0 ? toMB(max) : undefined;
  };
}

/** Waits until the process's CPU time stops moving (it has worked through what it was sent). */
async function quiesce(pid: number, quietMs = 400): Promise<void> {
  let last = readCpuSeconds(pid);
  let still = 0;
  for (let waited = 0; still < quietMs && waited < 60_000; waited += 100) {
    await sleep(100);
    const now = readCpuSeconds(pid);
    still = now === last ? still + 100 : 0;
    last = now;
  }
}

/**
 * CPU seconds the server spent from `work` until it went quiet again: an upper bound of what `work` cost (the
 * server's own timers run meanwhile; subtracting an idle rate measured apart only adds noise on a shared machine).
 */
async function cpuOf(pid: number, work: () => void | Promise<void>): Promise<number | undefined> {
  await quiesce(pid);
  const before = readCpuSeconds(pid);
  await work();
  await quiesce(pid);
  const after = readCpuSeconds(pid);
  return before === undefined || after === undefined ? undefined : after - before;
}

const name = (o: Record<string, unknown>) => (o.metadata as { name: string }).name;

function seed(api: FakeApiServer, cluster: GeneratedCluster): void {
  for (const mc of cluster.machineConfigs) api.upsert(OPENSHIFT_TYPES.machineconfigs, mc as never);
  for (const p of cluster.pools) api.upsert(OPENSHIFT_TYPES.machineconfigpools, p as never);
  api.upsert(OPENSHIFT_TYPES.clusterversions, {
    metadata: { name: 'version' },
    status: { desired: { version: '4.12.30' } },
  });
  for (const n of cluster.nodes) api.upsert(CORE_TYPES.nodes, n as never);
}

/** A node moved to another rendered config by the machine-config daemon: the annotations a rollout changes. */
function annotate(api: FakeApiServer, nodeName: string, desired: string, state: string): void {
  const stored = api.get(CORE_TYPES.nodes, nodeName)!;
  const annotations = {
    ...(stored.metadata.annotations as Record<string, string>),
    'machineconfiguration.openshift.io/desiredConfig': desired,
    'machineconfiguration.openshift.io/state': state,
  };
  api.upsert(CORE_TYPES.nodes, { ...stored, metadata: { ...stored.metadata, annotations } });
}

/** One live run: sync, settle, quiet load, load during a rollout, per-event CPU, relist after 410. */
export async function runLive(o: LiveOptions, cluster: GeneratedCluster): Promise<LiveResult> {
  const api = new FakeApiServer({ types: [CORE_TYPES.nodes, ...Object.values(OPENSHIFT_TYPES)] });
  await api.start();
  const nodes = cluster.nodes.length;
  const result: LiveResult = {
    nodes,
    nodeBytes: Math.round(JSON.stringify(cluster.nodes[0]).length),
    renderedConfigBytes: Math.round(JSON.stringify(cluster.machineConfigs[0]).length),
    readyMs: NaN,
  };
  let server: ServerProcess | undefined;
  try {
    seed(api, cluster);
    const dir = join(o.work, `live-${nodes}`);
    mkdirSync(dir, { recursive: true });
    server = await o.start(`live@${nodes}`, ['--kubeconfig', api.writeKubeconfig(dir)]);
    const pid = server.pid;
    result.readyMs = Math.round(server.startupMs);
    result.peakSyncMB = toMB(readMemory(pid)?.hwmBytes);
    await sleep(3000);
    result.rssSettledMB = toMB(readMemory(pid)?.rssBytes);
    o.log(
      `live ${nodes} nodes: ready in ${result.readyMs} ms, peak ${result.peakSyncMB} MB during sync, ${result.rssSettledMB} MB settled`,
    );
    if (o.syncOnly) return result;

    const target = { port: server.port, ca: o.tls.ca };
    const settings = { seconds: o.seconds, concurrency: o.connections };
    await runHttp1Load(target, o.requests, { ...settings, seconds: Math.min(3, o.seconds) });
    let stop = rssSampler(pid);
    result.quiet = await runHttp1Load(target, o.requests, settings);
    result.rssSteadyMB = stop();

    // The rollout: `rolloutNodes` workers move to the new rendered config, spread over the measured phase.
    const workers = cluster.nodes
      .map(name)
      .filter((n) => n.startsWith('worker-'))
      .slice(0, o.rolloutNodes);
    stop = rssSampler(pid);
    let sent = 0;
    const started = performance.now();
    const ticker = setInterval(() => {
      const due = Math.min(
        workers.length,
        Math.ceil(((performance.now() - started) / (o.seconds * 900)) * workers.length),
      );
      for (; sent < due; sent++) annotate(api, workers[sent]!, cluster.rolloutTarget, 'Working');
    }, 20);
    const during = await runHttp1Load(target, o.requests, settings);
    clearInterval(ticker);
    for (; sent < workers.length; sent++) annotate(api, workers[sent]!, cluster.rolloutTarget, 'Working');
    await quiesce(pid);
    result.rollout = { ...during, events: sent, peakMB: stop() };
    o.log(
      `live ${nodes} nodes: p99 quiet ${result.quiet.latencyMs.p99.toFixed(2)} ms, during a ${sent}-node rollout ${during.latencyMs.p99.toFixed(2)} ms`,
    );

    // CPU per event, no load: the same nodes back to Done in one burst, then new rendered configs.
    const nodeCpu = await cpuOf(pid, () => {
      for (const w of workers) annotate(api, w, cluster.current.worker, 'Done');
    });
    result.nodeEvents = workers.length;
    if (nodeCpu !== undefined) result.nodeEventCpuMs = round((nodeCpu * 1000) / workers.length);
    // Every rendered config once more: /proc counts CPU in 10 ms ticks, so 50 events put one tick at 0.2 ms each.
    const extra = cluster.machineConfigs.filter((mc) => name(mc).startsWith('rendered-'));
    const mcCpu = await cpuOf(pid, () => {
      for (const mc of extra)
        api.upsert(OPENSHIFT_TYPES.machineconfigs, {
          ...mc,
          metadata: { ...(mc.metadata as object), name: `${name(mc)}-bench`, uid: undefined },
        } as never);
    });
    result.machineConfigEvents = extra.length;
    if (mcCpu !== undefined) result.machineConfigEventCpuMs = round((mcCpu * 1000) / extra.length, 2);
    o.log(
      `live ${nodes} nodes: ${result.nodeEventCpuMs} ms CPU per Node event, ${result.machineConfigEventCpuMs} ms per rendered MachineConfig event`,
    );

    // Relist: etcd compaction ends every watch with 410 Gone; the informers list everything again.
    stop = rssSampler(pid);
    const watchers = api.watcherCount();
    const relistStarted = performance.now();
    api.expireWatches();
    while (api.watcherCount() < watchers && performance.now() - relistStarted < 120_000) await sleep(20);
    result.relist = { ms: Math.round(performance.now() - relistStarted) };
    await quiesce(pid);
    result.relist.peakMB = stop();
    result.peakMB = toMB(readMemory(pid)?.hwmBytes);
    o.log(
      `live ${nodes} nodes: relist in ${result.relist.ms} ms (peak ${result.relist.peakMB} MB); peak over the run ${result.peakMB} MB`,
    );
  } catch (err) {
    result.error = (err as Error).message.slice(0, 500);
    o.log(`live ${nodes} nodes FAILED: ${result.error}`);
  } finally {
    await server?.stop();
    await api.stop();
  }
  return result;
}

/** The cluster as one List dump, YAML then JSON, each loaded by `serve --cluster-state`. */
export async function runOffline(
  o: Pick<LiveOptions, 'start' | 'work' | 'log'>,
  cluster: GeneratedCluster,
): Promise<OfflineResult[]> {
  const out: OfflineResult[] = [];
  for (const format of ['yaml', 'json'] as const) {
    const dir = join(o.work, `offline-${format}`);
    mkdirSync(dir, { recursive: true });
    const bytes = writeListDump(join(dir, `cluster.${format}`), cluster, format);
    const result: OfflineResult = { format, nodes: cluster.nodes.length, fileMB: toMB(bytes)! };
    let server: ServerProcess | undefined;
    try {
      server = await o.start(`offline-${format}`, ['--cluster-state', dir]);
      result.readyMs = Math.round(server.startupMs);
      await sleep(3000);
      result.rssSettledMB = toMB(readMemory(server.pid)?.rssBytes);
      result.peakMB = toMB(readMemory(server.pid)?.hwmBytes);
      o.log(
        `offline ${format} (${result.fileMB} MB): ready in ${result.readyMs} ms, ${result.rssSettledMB} MB settled, peak ${result.peakMB} MB`,
      );
    } catch (err) {
      result.error = (err as Error).message.replace(/\s+/g, ' ').slice(0, 400);
      o.log(`offline ${format} FAILED: ${result.error}`);
    } finally {
      await server?.stop();
    }
    out.push(result);
  }
  return out;
}
