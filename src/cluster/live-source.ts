import { DEFAULT_BACKOFF, Informer, type InformerStatus } from './informers.js';
import { KubeApi, KubeError } from './kube-api.js';
import { loadCredentials, type CredentialOptions } from './kubeconfig.js';
import { KIND_NAMES } from './records.js';
import type { ClusterSnapshot } from './snapshot.js';
import type { ClusterSource, ClusterSourceOptions } from './source-options.js';
import { ClusterState, type SnapshotBody } from './state.js';

/** The API server the credentials name, or undefined when there are none (offline use with no state). */
export function liveApi(options: CredentialOptions): KubeApi | undefined {
  const credentials = loadCredentials(options);
  return credentials ? new KubeApi(credentials) : undefined;
}

/**
 * A rebuild waits at least this many times as long as the last one took: rebuilds hold the event loop at most 1%
 * of the time, so a burst of events does not show in the decisions' p99. Node events do not wait for it: they
 * change the node index in place at once (ClusterState), and the rebuild that follows restates pools and configs
 * only, a fraction of a millisecond, so its delay stays at the floor. Only a change to what every node's pool or
 * SCTP state depends on (a pool's selector, a config nodes run) rebuilds in time that follows the node count.
 */
const REBUILD_SPACING = 100;
/** However long a rebuild takes, a change shows in the snapshot within this. */
const MAX_REBUILD_DELAY_MS = 5000;

/**
 * Live state: one informer per watched resource feeds a ClusterState; a snapshot is rebuilt shortly after each
 * change that matters, so admission reads a ready-made value. Staleness is decided here, when a snapshot is taken.
 */
export class LiveClusterSource implements ClusterSource {
  private readonly state = new ClusterState();
  private readonly informers: Informer[];
  private body: SnapshotBody;
  private last: { body: SnapshotBody; snapshot: ClusterSnapshot } | undefined;
  private rebuildTimer?: NodeJS.Timeout;
  private readonly staleAfterSeconds: number;
  private lastBuildMs = 0;
  /** Discovery: undefined until the API server has answered as Kubernetes; else why not yet. */
  private notVerified?: string;
  private discoveryTimer?: NodeJS.Timeout;
  private stopped = false;
  private announcedReady = false;

  /** `verified`: the caller has run the discovery check (the CLI does, before anything else). */
  constructor(
    private readonly api: KubeApi,
    private readonly options: ClusterSourceOptions,
    verified = false,
  ) {
    if (!verified) this.notVerified = `discovery at ${api.server} not done yet`;
    this.staleAfterSeconds = options.stalenessLimitSeconds ?? 300;
    this.informers = (options.kinds ?? KIND_NAMES).map(
      (kind) =>
        new Informer({
          api,
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

  /**
   * Discovery first, then the informers (not awaited: the server listens, and answers /readyz 503, while they
   * sync). A server that answers but is not Kubernetes fails the start (serve exits 2); one that does not answer
   * yet is asked again with the informers' backoff, and nothing is listed until it answers as Kubernetes.
   */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.notVerified === undefined) return this.startInformers();
    await this.discover(0);
  }

  private startInformers(): void {
    for (const informer of this.informers) void informer.start();
  }

  private async discover(attempt: number): Promise<void> {
    try {
      await this.api.verifyKubernetes();
    } catch (err) {
      if (this.stopped) return;
      if (attempt === 0 && err instanceof KubeError && err.kind === 'not-kubernetes') throw err;
      this.notVerified = (err as Error).message;
      const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
      const delay = Math.min(maxMs, initialMs * 2 ** attempt);
      this.options.logger[attempt === 0 ? 'warn' : 'debug'](
        { error: this.notVerified, retryInMs: delay },
        'API server discovery failed: retrying',
      );
      this.discoveryTimer = setTimeout(() => void this.discover(attempt + 1), delay);
      this.discoveryTimer.unref();
      return;
    }
    if (this.stopped) return;
    this.notVerified = undefined;
    this.startInformers();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.discoveryTimer);
    clearTimeout(this.rebuildTimer);
    for (const informer of this.informers) informer.stop();
  }

  /** Resolves when every informer has synced or been found unavailable; rejects after `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`cluster state not synced after ${timeoutMs} ms: ${this.readiness().reason}`)),
        timeoutMs,
      );
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
    let age = 0;
    for (const informer of this.informers) age = Math.max(age, informer.ageSeconds(now));
    const synced = this.informers.every((i) => i.status.synced || !i.status.available);
    const ageSeconds = Math.round(age);
    const stale = !synced || age > this.staleAfterSeconds;
    // The same object while nothing in it changed: what rules work out once per snapshot (sctp-module-loaded's
    // texts) is kept across requests, and a request does not copy the body.
    const last = this.last;
    if (last?.body === this.body && last.snapshot.ageSeconds === ageSeconds && last.snapshot.stale === stale)
      return last.snapshot;
    const snapshot = { ...this.body, ageSeconds, stale };
    this.last = { body: this.body, snapshot };
    return snapshot;
  }

  readiness(): { ready: boolean; reason: string } {
    if (this.notVerified !== undefined)
      return { ready: false, reason: `waiting for the API server: ${this.notVerified}` };
    const waiting = this.informers
      .filter((i) => i.status.available && !i.status.synced)
      .map((i) => (i.status.lastError ? `${i.status.resource} (${i.status.lastError})` : i.status.resource));
    if (waiting.length > 0) return { ready: false, reason: `waiting for the first sync of ${waiting.join(', ')}` };
    const skipped = this.informers.filter((i) => !i.status.available).map((i) => i.status.resource);
    return {
      ready: true,
      reason: skipped.length > 0 ? `synced (not served by this cluster: ${skipped.join(', ')})` : 'synced',
    };
  }

  status(): InformerStatus[] {
    return this.informers.map((i) => ({ ...i.status }));
  }

  /**
   * Events within the delay fold into one rebuild. The delay grows with what a rebuild costs (REBUILD_SPACING
   * times its duration, up to MAX_REBUILD_DELAY_MS), so a burst (a relist, configs changing) spends a bounded share
   * of the event loop on rebuilds however many events it brings; decisions between rebuilds read the last snapshot,
   * with the nodes as the informer last saw them.
   */
  private scheduleRebuild(): void {
    // Until every informer has synced the snapshot is stale anyway: one build when the last one syncs.
    if (this.rebuildTimer || !this.readiness().ready) return;
    const delay = Math.min(
      MAX_REBUILD_DELAY_MS,
      Math.max(this.options.rebuildDelayMs ?? 50, this.lastBuildMs * REBUILD_SPACING),
    );
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
    if (!this.announcedReady && this.readiness().ready) {
      this.announcedReady = true;
      this.options.onReady?.(this.snapshot());
    }
  }
}

/** Live state once, for `audit`, `remediate` and `check --kubeconfig`, from an API server the caller has verified: start the informers, wait for the sync, take, stop. */
export async function takeLiveSnapshot(
  api: KubeApi,
  options: ClusterSourceOptions & { timeoutMs?: number },
): Promise<ClusterSnapshot> {
  const source = new LiveClusterSource(api, options, true);
  await source.start();
  try {
    await source.waitForSync(options.timeoutMs ?? 60_000);
    return source.snapshot();
  } finally {
    await source.stop();
  }
}
