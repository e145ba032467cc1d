import type { Logger } from 'pino';
import { isRecord } from '../util/json.js';
import { KubeError, type KubeApi } from './kube-api.js';
import { reduce, STRINGS_UNREAD, WATCHED_KINDS, type KindName } from './records.js';
import type { ClusterState } from './state.js';

/** Per-informer health, for /readyz, /metrics and the audit line. */
export interface InformerStatus {
  resource: string;
  available: boolean;
  synced: boolean;
  objects: number;
  lastEventAt?: number;
  lastError?: string;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

export interface InformerOptions {
  api: KubeApi;
  kind: KindName;
  state: ClusterState;
  logger: Logger;
  /** Called when a change that sctp-guard reads was stored. */
  onChange: () => void;
  /** Called when the informer's availability or sync state changes. */
  onStatus: () => void;
  backoff?: Backoff;
  /** Objects per list page: MachineConfigs are large, so they come in small pages and are reduced page by page. */
  pageSize?: number;
  listTimeoutMs?: number;
  /** A watch silent this long is dropped and resumed from its resourceVersion (client-node's default: 30 s). */
  watchIdleTimeoutMs?: number;
}

const DEFAULT_WATCH_IDLE_MS = 30_000;

/**
 * One resource's list + watch through the API module (kube-api.ts). Each object is parsed and reduced as it
 * arrives (list pages are split item by item), so no page, whole object or second cache is kept: the
 * ClusterState is the only store. What it keeps of client-go's informer semantics: paginated lists,
 * watches resumed from the last resourceVersion (bookmarks asked for, so a quiet resource keeps a fresh one),
 * a re-list on 410 Gone, capped exponential backoff after any other error, an idle timeout that catches a hung
 * watch, and a resource that answers 404 to its first list (a CRD that is not installed) skipped once.
 */
export class Informer {
  readonly status: InformerStatus;
  /** Where the next watch resumes; undefined: list first. */
  private resourceVersion?: string;
  private abort?: AbortController;
  private retryTimer?: NodeJS.Timeout;
  private attempt = 0;
  private stopped = true;
  private healthy = false;
  private lastContactAt = Date.now();
  private settle!: () => void;
  /** Resolves once the informer has synced or is known to be unavailable. */
  readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(private readonly options: InformerOptions) {
    this.status = { resource: WATCHED_KINDS[options.kind].plural, available: true, synced: false, objects: 0 };
  }

  get kind(): KindName {
    return this.options.kind;
  }

  /** Seconds since the informer was last known to be current; 0 while its watch is healthy. */
  ageSeconds(now: number): number {
    return this.healthy || !this.status.available ? 0 : Math.max(0, (now - this.lastContactAt) / 1000);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastContactAt = Date.now();
    void this.run();
    await this.settled;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.abort?.abort();
  }

  private contact = (): void => {
    this.lastContactAt = Date.now();
    this.status.lastEventAt = this.lastContactAt;
  };

  /** List (when there is no resourceVersion to resume from) and watch, until stopped or an error. */
  private async run(): Promise<void> {
    this.retryTimer = undefined;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        await this.watch();
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeError && err.kind === 'gone') {
          // Compacted: what happened since our resourceVersion is gone, so list everything again.
          this.resourceVersion = undefined;
          continue;
        }
        return this.failed(err);
      }
    }
  }

  /** The watch answered 200: the informer is current. */
  private watching(): void {
    this.healthy = true;
    this.attempt = 0;
    this.contact();
    if (this.status.lastError)
      this.options.logger.info({ resource: this.status.resource }, 'cluster informer recovered');
    delete this.status.lastError;
    if (!this.status.synced) {
      this.status.synced = true;
      this.options.onStatus();
      this.settle();
    }
  }

  private failed(err: unknown): void {
    this.healthy = false;
    // The same words as the CLI's errors: 401 credentials, 403 RBAC, DNS, refused, TLS, timeout.
    this.status.lastError = err instanceof Error ? err.message : String(err);
    if (this.stopped || this.retryTimer) return;
    if (err instanceof KubeError && err.kind === 'not-found' && !this.status.synced) {
      // Plain Kubernetes has no MCO: the resource does not exist, and asking again will not create it.
      this.status.available = false;
      this.options.logger.warn(
        { resource: this.status.resource },
        `${this.status.resource} not served by the API server (404): skipped`,
      );
      this.stopped = true;
      this.options.onStatus();
      this.settle();
      return;
    }
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
    const delay = Math.min(maxMs, initialMs * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.options.logger[this.attempt === 1 ? 'warn' : 'debug'](
      {
        resource: this.status.resource,
        error: this.status.lastError,
        retryInMs: Math.round(delay),
        attempt: this.attempt,
      },
      'cluster informer failed: restarting with backoff',
    );
    this.retryTimer = setTimeout(() => void this.run(), delay);
    this.retryTimer.unref();
  }

  private store(raw: unknown): string | undefined {
    // Stopped means done: a snapshot taken then (audit, check --kubeconfig) shares the state's node index.
    if (this.stopped || !isRecord(raw)) return undefined;
    const { kind, state } = this.options;
    // The API server changes resourceVersion with every write, so an object that still has the stored one (a relist
    // after 410 Gone) is the object already reduced: a 500 KB rendered config is not read again. The MCO's own
    // controllers skip such events the same way (pkg/controller/certrotation/certrotation_controller.go
    // updateConfigMap: "Only take action if there is an actual change").
    const metadata = isRecord(raw.metadata) ? raw.metadata : {};
    if (
      typeof metadata.name === 'string' &&
      typeof metadata.resourceVersion === 'string' &&
      state.resourceVersion(kind, metadata.name) === metadata.resourceVersion
    )
      return metadata.name;
    const record = reduce(kind, raw);
    if (state.upsert(kind, record as never)) this.options.onChange();
    return record.metadata.name;
  }

  /** A paginated list, each item reduced as it is read; objects the list no longer has are removed. */
  private async list(): Promise<void> {
    const { kind, state, api, pageSize = kind === 'MachineConfig' ? 10 : 500, listTimeoutMs = 60_000 } = this.options;
    const seen = new Set<string>();
    this.abort = new AbortController();
    const listed = await api.list(
      WATCHED_KINDS[kind].path,
      { limit: pageSize, timeoutMs: listTimeoutMs, signal: this.abort.signal, unread: STRINGS_UNREAD[kind] },
      (item) => {
        const name = this.store(item);
        if (name !== undefined) seen.add(name);
      },
    );
    // A resource this cluster does not serve: failed() marks it unavailable.
    if (!listed)
      throw new KubeError('not-found', `list ${WATCHED_KINDS[kind].path}: not served by the API server (404)`, 404);
    if (this.stopped) return;
    let removed = false;
    for (const name of state.names(kind)) if (!seen.has(name)) removed = state.remove(kind, name) || removed;
    if (removed) this.options.onChange();
    this.status.objects = state.count(kind);
    this.resourceVersion = listed.resourceVersion ?? '0';
    this.contact();
  }

  /** One watch request, from the resourceVersion on; resolves when the server ends it cleanly. */
  private async watch(): Promise<void> {
    const { watchIdleTimeoutMs = DEFAULT_WATCH_IDLE_MS, api, kind } = this.options;
    let open = false;
    this.abort = new AbortController();
    try {
      await api.watch(
        WATCHED_KINDS[kind].path,
        this.resourceVersion!,
        {
          idleMs: watchIdleTimeoutMs,
          signal: this.abort.signal,
          unread: STRINGS_UNREAD[kind],
          onOpen: () => {
            open = true;
            this.watching();
          },
        },
        (event) => {
          this.contact();
          this.event(event);
        },
      );
    } finally {
      // An open watch kept the state current until this moment.
      if (open) this.contact();
    }
  }

  private event(e: { type?: string; object?: unknown }): void {
    const object = isRecord(e.object) ? e.object : {};
    const rv =
      isRecord(object.metadata) && typeof object.metadata.resourceVersion === 'string'
        ? object.metadata.resourceVersion
        : undefined;
    const { kind, state } = this.options;
    if (this.stopped) return;
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.store(object);
    else if (e.type === 'DELETED') {
      const name = isRecord(object.metadata) ? object.metadata.name : undefined;
      if (typeof name === 'string' && state.remove(kind, name)) this.options.onChange();
    }
    if (rv) this.resourceVersion = rv;
    this.status.objects = state.count(kind);
  }
}
