import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  ListWatch,
  RequestContext,
  Watch,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { reduce, WATCHED_KINDS, type KindName } from './records.js';
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
  kubeConfig: KubeConfig;
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

/** An API error with the HTTP status, shaped as client-node's ListWatch expects (`statusCode`). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/**
 * client-node's Watch, reducing each object as it arrives so that the ListWatch cache never holds a whole
 * rendered MachineConfig, and asking for bookmarks so that a quiet resource keeps a fresh resourceVersion.
 */
class ReducingWatch extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly kind: KindName,
    private readonly onContact: () => void,
    idleTimeoutMs?: number,
  ) {
    super(kubeConfig);
    // client-node keeps this knob private; it is the inactivity timeout that catches a hung watch.
    if (idleTimeoutMs) (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = idleTimeoutMs;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    // any: the signature of the method it overrides.
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    let ended = false;
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, obj) => {
        this.onContact();
        const isObject = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
        callback(phase, isObject ? reduce(this.kind, obj as Record<string, unknown>) : obj);
      },
      (err) => {
        ended = true;
        done(err);
      },
    );
    // Watch calls `done` before returning when the request failed: reaching here without it means a 200 stream.
    if (!ended) this.onContact();
    return controller;
  }
}

/**
 * One resource's list + watch, on client-node's ListWatch (resourceVersion resume, re-list on 410 Gone), with
 * what it leaves to the caller: a restart with capped exponential backoff after any other error (which stops
 * the ListWatch), and a resource that answers 404 to its first list (a CRD that is not installed) skipped once.
 */
export class Informer {
  readonly status: InformerStatus;
  private listWatch?: ListWatch<KubernetesObject>;
  private retryTimer?: NodeJS.Timeout;
  private attempt = 0;
  /** Errors so far: a start() during which this changed did not succeed. */
  private failures = 0;
  private stopped = true;
  private healthy = false;
  private lastContactAt = Date.now();
  private settle!: () => void;
  /** Resolves once the informer has synced or is known to be unavailable. */
  readonly settled = new Promise<void>((resolve) => (this.settle = resolve));
  private readonly http = new IsomorphicFetchHttpLibrary();

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
    await this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.listWatch?.stop();
  }

  private contact = (): void => {
    this.lastContactAt = Date.now();
    this.status.lastEventAt = this.lastContactAt;
  };

  private ensureListWatch(): ListWatch<KubernetesObject> {
    if (this.listWatch) return this.listWatch;
    const { kind, state, kubeConfig } = this.options;
    const lw = new ListWatch<KubernetesObject>(WATCHED_KINDS[kind].path, new ReducingWatch(kubeConfig, kind, this.contact, this.options.watchIdleTimeoutMs), () => this.list(), false);
    const upsert = (obj: KubernetesObject) => {
      if (state.upsert(kind, obj as never)) this.options.onChange();
      this.status.objects = state.count(kind);
    };
    lw.on('add', upsert);
    lw.on('update', upsert);
    lw.on('delete', (obj) => {
      if (state.remove(kind, obj.metadata?.name ?? '')) this.options.onChange();
      this.status.objects = state.count(kind);
    });
    lw.on('error', (err: unknown) => this.failed(err));
    this.listWatch = lw;
    return lw;
  }

  private async run(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const failuresBefore = this.failures;
    await this.ensureListWatch().start();
    if (this.stopped || this.failures !== failuresBefore) return;
    // The ListWatch listed (or resumed from its resourceVersion) and its watch stream is open.
    this.healthy = true;
    this.attempt = 0;
    this.contact();
    if (this.status.lastError) this.options.logger.info({ resource: this.status.resource }, 'cluster informer recovered');
    delete this.status.lastError;
    if (!this.status.synced) {
      this.status.synced = true;
      this.options.onStatus();
      this.settle();
    }
  }

  private failed(err: unknown): void {
    this.failures++;
    this.healthy = false;
    const statusCode = (err as { statusCode?: number } | null)?.statusCode;
    const message = err instanceof Error ? err.message : String(err);
    this.status.lastError = statusCode ? `${statusCode} ${message}` : message;
    if (this.stopped || this.retryTimer) return;
    if (statusCode === 404 && !this.status.synced) {
      // Plain Kubernetes has no MCO: the resource does not exist, and asking again will not create it.
      this.status.available = false;
      this.options.logger.warn({ resource: this.status.resource }, `${this.status.resource} not served by the API server (404): skipped`);
      this.stopped = true;
      this.options.onStatus();
      this.settle();
      return;
    }
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
    const delay = Math.min(maxMs, initialMs * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.options.logger[this.attempt === 1 ? 'warn' : 'debug'](
      { resource: this.status.resource, error: this.status.lastError, retryInMs: Math.round(delay), attempt: this.attempt },
      'cluster informer failed: restarting with backoff',
    );
    this.retryTimer = setTimeout(() => void this.run(), delay);
    this.retryTimer.unref();
  }

  /** A paginated list, each page reduced before the next is fetched. */
  private async list(): Promise<{ metadata: { resourceVersion?: string }; items: KubernetesObject[] }> {
    const { kind, kubeConfig, pageSize = kind === 'MachineConfig' ? 10 : 500, listTimeoutMs = 60_000 } = this.options;
    const server = kubeConfig.getCurrentCluster()?.server.replace(/\/+$/, '');
    if (!server) throw new KubeApiError(0, 'the kubeconfig has no current cluster');
    const items: KubernetesObject[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const url = new URL(server + WATCHED_KINDS[kind].path);
      url.searchParams.set('limit', String(pageSize));
      if (cont) url.searchParams.set('continue', cont);
      const ctx = new RequestContext(url.toString(), HttpMethod.GET);
      ctx.setSignal(AbortSignal.timeout(listTimeoutMs));
      await kubeConfig.applySecurityAuthentication(ctx);
      const response = await this.http.send(ctx).toPromise();
      const text = await response.body.text();
      if (response.httpStatusCode !== 200) throw new KubeApiError(response.httpStatusCode, statusMessage(text) ?? `list ${url.pathname} failed`);
      const page = JSON.parse(text) as { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] };
      for (const item of page.items ?? []) items.push(reduce(kind, item as Record<string, unknown>) as KubernetesObject);
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    this.contact();
    return { metadata: { resourceVersion }, items };
  }
}

function statusMessage(text: string): string | undefined {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : undefined;
  } catch {
    return undefined;
  }
}
