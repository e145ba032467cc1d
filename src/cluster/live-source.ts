import { delimiter } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, type InformerStatus } from './informers.js';
import { kubeConfigModule } from './kubeconfig.js';
import type { KindName } from './records.js';
import type { ClusterSnapshot } from './snapshot.js';
import { liveCredentials, type ClusterSource, type ClusterSourceOptions } from './source-options.js';
import { ClusterState, type SnapshotBody } from './state.js';

/**
 * The credentials for live state, or undefined when there are none (offline use with no state): the one way every
 * command (and serve's informers) loads a kubeconfig. A kubeconfig that cannot be used is an error naming the file.
 */
export async function liveKubeConfig(options: Pick<ClusterSourceOptions, 'kubeconfig' | 'context' | 'env'>): Promise<KubeConfig | undefined> {
  const credentials = liveCredentials(options);
  if (!credentials) return undefined;
  const { KubeConfig } = await kubeConfigModule();
  const kc = 'kubeconfig' in credentials ? loadKubeconfigs(KubeConfig, credentials.merged ?? [credentials.kubeconfig]) : new KubeConfig();
  if (!('kubeconfig' in credentials)) kc.loadFromCluster();
  // Errors name the file (or the merged list) as kubectl's do.
  const source = 'kubeconfig' in credentials ? (credentials.merged ?? [credentials.kubeconfig]).join(delimiter) : 'in-cluster';
  const contexts = () => kc.getContexts().map((c) => c.name).join(', ') || 'none';
  if (options.context) {
    if (!kc.getContextObject(options.context)) throw new Error(`kubeconfig ${source}: context "${options.context}" is not in it (contexts: ${contexts()})`);
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    const current = kc.getCurrentContext();
    const why = current ? `its context "${current}" names no cluster that it defines` : 'it sets no current-context';
    throw new Error(`kubeconfig ${source}: ${why}; pick a context with --context (contexts: ${contexts()})`);
  }
  return kc;
}

/**
 * Loads one kubeconfig, or merges a KUBECONFIG list as kubectl does (client-go `clientcmd/loader.go`): the first
 * file to set current-context wins, and the first file to define a cluster, user or context name wins. A file that
 * cannot be read or parsed is named in the error.
 */
function loadKubeconfigs(KubeConfig: new () => KubeConfig, files: readonly string[]): KubeConfig {
  const loaded = files.map((file) => {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`kubeconfig ${file}: ${e.code === 'ENOENT' ? 'no such file (ENOENT)' : e.code ? `cannot read (${e.code})` : `not a valid kubeconfig: ${e.message.split('\n')[0]}`}`);
    }
    return kc;
  });
  if (loaded.length === 1) return loaded[0]!;
  const firstByName = <T extends { name: string }>(lists: T[][]) => [...new Map(lists.flat().reverse().map((x) => [x.name, x] as const)).values()].reverse();
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: firstByName(loaded.map((k) => k.getClusters())),
    users: firstByName(loaded.map((k) => k.getUsers())),
    contexts: firstByName(loaded.map((k) => k.getContexts())),
    currentContext: loaded.map((k) => k.getCurrentContext()).find((c) => c) ?? '',
  });
  return merged;
}

/**
 * A rebuild waits at least this many times as long as the last one took: rebuilds hold the event loop at most 1%
 * of the time, so a burst of events does not show in the decisions' p99 (a rebuild walks every node).
 */
const REBUILD_SPACING = 100;
/** However long a rebuild takes, a change shows in the snapshot within this. */
const MAX_REBUILD_DELAY_MS = 5000;

const KINDS: KindName[] = ['Node', 'MachineConfig', 'MachineConfigPool', 'ClusterVersion', 'MachineConfiguration'];

/**
 * Live state: one informer per watched resource feeds a ClusterState; a snapshot is rebuilt shortly after each
 * change that matters, so admission reads a ready-made value. Staleness is decided here, when a snapshot is taken.
 */
export class LiveClusterSource implements ClusterSource {
  private readonly state = new ClusterState();
  private readonly informers: Informer[];
  private body: SnapshotBody;
  private rebuildTimer?: NodeJS.Timeout;
  private readonly staleAfterSeconds: number;
  private lastBuildMs = 0;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: ClusterSourceOptions,
  ) {
    this.staleAfterSeconds = options.stalenessLimitSeconds ?? 300;
    this.informers = KINDS.map(
      (kind) =>
        new Informer({
          kubeConfig,
          kind,
          state: this.state,
          logger: options.logger,
          backoff: options.backoff,
          watchIdleTimeoutMs: options.watchIdleTimeoutMs,
          onChange: () => this.scheduleRebuild(),
          onStatus: () => this.rebuild(),
        }),
    );
    this.body = this.state.build('live', false);
  }

  async start(): Promise<void> {
    // Not awaited: the server listens (and answers /readyz 503) while the informers sync.
    for (const informer of this.informers) void informer.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.rebuildTimer);
    for (const informer of this.informers) informer.stop();
  }

  /** Resolves when every informer has synced or been found unavailable; rejects after `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cluster state not synced after ${timeoutMs} ms: ${this.readiness().reason}`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.informers.map((i) => i.settled)), timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.rebuild();
  }

  snapshot(): ClusterSnapshot {
    const now = Date.now();
    const age = Math.max(0, ...this.informers.map((i) => i.ageSeconds(now)));
    const synced = this.informers.every((i) => i.status.synced || !i.status.available);
    return { ...this.body, ageSeconds: Math.round(age), stale: !synced || age > this.staleAfterSeconds };
  }

  readiness(): { ready: boolean; reason: string } {
    const waiting = this.informers
      .filter((i) => i.status.available && !i.status.synced)
      .map((i) => (i.status.lastError ? `${i.status.resource} (${i.status.lastError})` : i.status.resource));
    if (waiting.length > 0) return { ready: false, reason: `waiting for the first sync of ${waiting.join(', ')}` };
    const skipped = this.informers.filter((i) => !i.status.available).map((i) => i.status.resource);
    return { ready: true, reason: skipped.length > 0 ? `synced (not served by this cluster: ${skipped.join(', ')})` : 'synced' };
  }

  status(): InformerStatus[] {
    return this.informers.map((i) => ({ ...i.status }));
  }

  /**
   * Events within the delay fold into one rebuild. The delay grows with what a rebuild costs (REBUILD_SPACING
   * times its duration, up to MAX_REBUILD_DELAY_MS), so a burst (a rollout, a relist) spends a bounded share of the
   * event loop on rebuilds however many events it brings, and decisions between rebuilds read the last snapshot.
   */
  private scheduleRebuild(): void {
    // Until every informer has synced the snapshot is stale anyway: one build when the last one syncs.
    if (this.rebuildTimer || !this.readiness().ready) return;
    const delay = Math.min(MAX_REBUILD_DELAY_MS, Math.max(this.options.rebuildDelayMs ?? 50, this.lastBuildMs * REBUILD_SPACING));
    this.rebuildTimer = setTimeout(() => this.rebuild(), delay);
    this.rebuildTimer.unref();
  }

  private rebuild(): void {
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = undefined;
    const started = performance.now();
    const mco = this.informers.some((i) => i.kind === 'MachineConfig' && i.status.available && i.status.synced);
    this.body = this.state.build('live', mco);
    this.lastBuildMs = performance.now() - started;
  }
}

/** Live state once, for `audit` and `check --kubeconfig`: start the informers, wait for the sync, take, stop. */
export async function takeLiveSnapshot(options: ClusterSourceOptions & { timeoutMs?: number }): Promise<ClusterSnapshot> {
  const kubeConfig = await liveKubeConfig(options);
  if (!kubeConfig) throw new Error('no cluster credentials: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a cluster');
  const source = new LiveClusterSource(kubeConfig, options);
  await source.start();
  try {
    await source.waitForSync(options.timeoutMs ?? 60_000);
    return source.snapshot();
  } finally {
    await source.stop();
  }
}
