/**
 * A real HTTP server in the test process that speaks the Kubernetes API protocol the cluster code uses:
 * discovery (/version, /api, /apis), paginated lists (limit/continue), chunked watch streams with resourceVersion
 * resume and bookmarks, 410 Gone for a compacted resourceVersion, create/get/replace/delete, and PATCH as JSON merge
 * patch or server-side apply (application/apply-patch+yaml with a fieldManager: maps merged, lists and scalars
 * replaced, fields the same manager applied before and leaves out removed, metadata.resourceVersion a precondition).
 * Faults are switched on by tests: an outage (503), a dropped watch, a watch that hangs without data, slow responses.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KINDS, type KindInfo } from '../../src/util/kinds.js';

export interface ResourceType {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface Watcher {
  res: ServerResponse;
  namespace?: string;
  labelSelector?: string;
  bookmarks: boolean;
  hung: boolean;
}

interface Store {
  type: ResourceType;
  objects: Map<string, Obj>; // key: ns/name
  events: WatchEvent[];
  watchers: Set<Watcher>;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  watch: boolean;
  contentType?: string;
}

/** A kind of the registry as the fake serves it: its preferred version. */
function served(k: KindInfo): ResourceType {
  return { group: k.group, version: k.versions[0]!, plural: k.resource, kind: k.kind, namespaced: k.namespaced };
}

export const CORE_TYPES = {
  nodes: served(KINDS.Node),
  services: served(KINDS.Service),
  pods: served(KINDS.Pod),
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  deployments: served(KINDS.Deployment),
  statefulsets: served(KINDS.StatefulSet),
  daemonsets: served(KINDS.DaemonSet),
  replicasets: served(KINDS.ReplicaSet),
  jobs: served(KINDS.Job),
  cronjobs: served(KINDS.CronJob),
  networkpolicies: served(KINDS.NetworkPolicy),
  // What `register` writes; sctp-guard reads neither.
  validatingwebhookconfigurations: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'validatingwebhookconfigurations',
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
  },
  mutatingwebhookconfigurations: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
  },
} satisfies Record<string, ResourceType>;

export const OPENSHIFT_TYPES = {
  machineconfigs: served(KINDS.MachineConfig),
  machineconfigpools: served(KINDS.MachineConfigPool),
  clusterversions: served(KINDS.ClusterVersion),
  machineconfigurations: served(KINDS.MachineConfiguration),
} satisfies Record<string, ResourceType>;

export const GATEWAY_TYPES = {
  gatewaysV1alpha1: served(KINDS.ServiceApisGateway),
  gatewaysV1: served(KINDS.Gateway),
} satisfies Record<string, ResourceType>;

function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export interface FakeApiServerOptions {
  /** Resource types served; anything else is 404, as for a CRD that is not installed. */
  types?: ResourceType[];
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly stores = new Map<string, Store>(); // key: group/plural
  private rv = 1000;
  private server: Server;
  private port = 0;
  /** Faults, switched by tests. */
  outage = false;
  delayMs = 0;
  hangWatches = false;
  /** Events at or below this resourceVersion are compacted: a watch from there gets 410 Gone. */
  compactedBelow = 0;
  /** Types whose requests get 403 Forbidden, as with missing RBAC (see `forbid`). */
  private readonly forbidden = new Set<string>();
  /** What each field manager last applied to each object (server-side apply), key: group/plural/ns/name/manager. */
  private readonly applied = new Map<string, Obj>();

  constructor(options: FakeApiServerOptions = {}) {
    for (const t of options.types ?? [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES)]) this.addType(t);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
  }

  addType(t: ResourceType): void {
    this.stores.set(`${t.group}/${t.plural}`, { type: t, objects: new Map(), events: [], watchers: new Set() });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig file that points at this server (no auth: the fake accepts everyone). */
  writeKubeconfig(dir = tmpdir()): string {
    const file = join(dir, `kubeconfig-fake-${this.port}-${process.pid}.yaml`);
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: fake, cluster: {server: "' + this.url + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: fake, user: {token: fake-token}}]',
        'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Answers every request for `t` with 403 Forbidden (missing RBAC) until `allow(t)`. */
  forbid(t: ResourceType): void {
    this.forbidden.add(`${t.group}/${t.plural}`);
  }

  allow(t: ResourceType): void {
    this.forbidden.delete(`${t.group}/${t.plural}`);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  private store(t: ResourceType | string): Store {
    const key = typeof t === 'string' ? t : `${t.group}/${t.plural}`;
    const s = this.stores.get(key);
    if (!s) throw new Error(`fake apiserver: type ${key} not registered`);
    return s;
  }

  /** Create or replace an object, emitting ADDED or MODIFIED to watchers. */
  upsert(
    t: ResourceType,
    object: Omit<Obj, 'metadata'> & { metadata: { name: string; namespace?: string; [k: string]: unknown } },
  ): Obj {
    const s = this.store(t);
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const existed = s.objects.get(key);
    const stored: Obj = structuredClone({
      ...object,
      apiVersion: apiVersionOf(t),
      kind: t.kind,
      metadata: {
        ...object.metadata,
        uid: existed?.metadata.uid ?? `uid-${key}-${this.rv}`,
        resourceVersion: String(++this.rv),
      },
    }) as Obj;
    s.objects.set(key, stored);
    this.emit(s, { rv: this.rv, type: existed ? 'MODIFIED' : 'ADDED', object: stored });
    return stored;
  }

  /** Stores each object under the served type of its kind; kinds this server does not serve are left out. */
  upsertAll(
    objects: Array<{
      kind?: string;
      metadata: { name: string; namespace?: string; [k: string]: unknown };
      [k: string]: unknown;
    }>,
  ): void {
    for (const o of objects) {
      const store = [...this.stores.values()].find((s) => s.type.kind === o.kind);
      if (store) this.upsert(store.type, o);
    }
  }

  remove(t: ResourceType, name: string, namespace?: string): boolean {
    const s = this.store(t);
    const key = `${namespace ?? ''}/${name}`;
    const existed = s.objects.get(key);
    if (!existed) return false;
    s.objects.delete(key);
    const object = { ...existed, metadata: { ...existed.metadata, resourceVersion: String(++this.rv) } };
    this.emit(s, { rv: this.rv, type: 'DELETED', object });
    return true;
  }

  get(t: ResourceType, name: string, namespace?: string): Obj | undefined {
    return this.store(t).objects.get(`${namespace ?? ''}/${name}`);
  }

  list(t: ResourceType): Obj[] {
    return [...this.store(t).objects.values()];
  }

  /** Closes every watch stream cleanly, as the API server does when a watch's timeout is up. */
  endWatches(): void {
    for (const s of this.stores.values()) {
      for (const w of s.watchers) w.res.end();
      s.watchers.clear();
    }
  }

  /** Cuts every open watch connection mid-stream, as a crashed API server or a load balancer reset does. */
  dropWatches(): void {
    for (const s of this.stores.values()) {
      for (const w of s.watchers) w.res.destroy();
      s.watchers.clear();
    }
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watcher that asked for bookmarks. */
  bookmark(): void {
    for (const s of this.stores.values()) {
      for (const w of s.watchers) {
        if (w.bookmarks && !w.hung)
          this.write(w, {
            type: 'BOOKMARK',
            object: {
              kind: s.type.kind,
              apiVersion: apiVersionOf(s.type),
              metadata: { resourceVersion: String(this.rv) },
            },
          });
      }
    }
  }

  /** Sends a 410 Gone ERROR event on every open watch and compacts history, as etcd compaction does. */
  expireWatches(): void {
    this.compactedBelow = this.rv;
    for (const s of this.stores.values()) {
      for (const w of s.watchers) {
        this.write(w, { type: 'ERROR', object: status(410, 'Expired', 'too old resource version') });
        w.res.end();
      }
      s.watchers.clear();
    }
  }

  watcherCount(t?: ResourceType): number {
    const stores = t ? [this.store(t)] : [...this.stores.values()];
    return stores.reduce((n, s) => n + s.watchers.size, 0);
  }

  countRequests(filter: (r: RequestRecord) => boolean): number {
    return this.requests.filter(filter).length;
  }

  private emit(s: Store, ev: WatchEvent): void {
    s.events.push(ev);
    for (const w of s.watchers) {
      if (!w.hung && matchesWatcher(w, ev.object)) this.write(w, { type: ev.type, object: ev.object });
    }
  }

  private write(w: Watcher, event: unknown): void {
    if (!w.res.writableEnded) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = url.searchParams;
    const watch = query.get('watch') === 'true' || query.get('watch') === '1';
    const contentType = req.headers['content-type'];
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      watch,
      ...(contentType ? { contentType } : {}),
    });
    const body = await readBody(req);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.outage)
      return send(res, 503, status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'));
    const discovery = this.discovery(url.pathname);
    if (discovery && req.method === 'GET') return send(res, 200, discovery);

    const route = this.route(url.pathname);
    if (!route)
      return send(
        res,
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`),
      );
    const { store, namespace, name } = route;
    if (this.forbidden.has(`${store.type.group}/${store.type.plural}`)) {
      return send(
        res,
        403,
        status(
          403,
          'Forbidden',
          `${store.type.plural}.${store.type.group} is forbidden: User "system:serviceaccount:sctp-guard:sctp-guard" cannot list resource "${store.type.plural}"`,
        ),
      );
    }
    try {
      switch (req.method) {
        case 'GET':
          if (name) return this.getOne(res, store, namespace, name);
          return watch ? this.watch(res, store, namespace, query) : this.listPage(res, store, namespace, query);
        case 'POST':
          return this.create(res, store, namespace, JSON.parse(body) as Obj);
        case 'PUT':
          return this.replace(res, store, namespace, name!, JSON.parse(body) as Obj);
        case 'PATCH':
          if (contentType === 'application/apply-patch+yaml')
            return this.apply(res, store, namespace, name!, JSON.parse(body) as Obj, query);
          if (contentType !== 'application/merge-patch+json')
            return send(
              res,
              415,
              status(
                415,
                'UnsupportedMediaType',
                `the body of the request was in an unknown format: ${contentType ?? 'none'}`,
              ),
            );
          return this.patch(res, store, namespace, name!, JSON.parse(body) as Record<string, unknown>);
        case 'DELETE':
          if (!this.remove(store.type, name!, namespace))
            return send(res, 404, status(404, 'NotFound', `${store.type.plural} "${name}" not found`));
          return send(res, 200, status(200, 'Success', 'deleted'));
        default:
          return send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed`));
      }
    } catch (err) {
      return send(res, 400, status(400, 'BadRequest', (err as Error).message));
    }
  }

  /** The discovery documents (version.Info, APIVersions, APIGroupList) the API module checks before anything else. */
  private discovery(pathname: string): unknown {
    if (pathname === '/version')
      return { major: '1', minor: '31', gitVersion: 'v1.31.0-fake', platform: 'linux/amd64' };
    if (pathname === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (pathname !== '/apis') return undefined;
    const groups = new Map<string, string[]>();
    for (const { type } of this.stores.values()) {
      if (!type.group) continue;
      const versions = groups.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      groups.set(type.group, versions);
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
        preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
      })),
    };
  }

  /** `/api/v1/nodes`, `/api/v1/namespaces/ns/services/name`, `/apis/g/v/plural`... */
  private route(pathname: string): { store: Store; namespace?: string; name?: string } | undefined {
    const parts = pathname.split('/').filter(Boolean);
    let rest: string[];
    let group: string;
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1]!;
      rest = parts.slice(3);
    } else return undefined;
    const version = parts[0] === 'api' ? parts[1] : parts[2];
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const store = this.stores.get(`${group}/${rest[0]}`);
    if (!store || store.type.version !== version) return undefined;
    if (namespace && !store.type.namespaced) return undefined;
    return { store, namespace, name: rest[1] };
  }

  private visible(store: Store, namespace?: string, labelSelector?: string | null): Obj[] {
    return [...store.objects.values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => matchesLabels(o, labelSelector ?? undefined))
      .sort((a, b) =>
        `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        ),
      );
  }

  private listPage(res: ServerResponse, store: Store, namespace: string | undefined, query: URLSearchParams): void {
    const all = this.visible(store, namespace, query.get('labelSelector'));
    const limit = Number(query.get('limit') ?? 0);
    const start = Number(query.get('continue') ? Buffer.from(query.get('continue')!, 'base64').toString() : 0);
    const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const next =
      limit > 0 && start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64') : undefined;
    send(res, 200, {
      apiVersion: apiVersionOf(store.type),
      kind: `${store.type.kind}List`,
      metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) },
      items,
    });
  }

  private watch(res: ServerResponse, store: Store, namespace: string | undefined, query: URLSearchParams): void {
    const from = Number(query.get('resourceVersion') ?? 0);
    if (from > 0 && from < this.compactedBelow) {
      // The API server answers an expired resourceVersion with 200 and a single ERROR event carrying 410.
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedBelow})`) })}\n`,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = {
      res,
      namespace,
      labelSelector: query.get('labelSelector') ?? undefined,
      bookmarks: query.get('allowWatchBookmarks') === 'true',
      hung: this.hangWatches,
    };
    store.watchers.add(w);
    res.on('close', () => store.watchers.delete(w));
    if (w.hung) return;
    for (const ev of store.events) {
      if (ev.rv > from && matchesWatcher(w, ev.object)) this.write(w, { type: ev.type, object: ev.object });
    }
  }

  private getOne(res: ServerResponse, store: Store, namespace: string | undefined, name: string): void {
    const obj = store.objects.get(`${namespace ?? ''}/${name}`);
    if (!obj) return send(res, 404, status(404, 'NotFound', `${store.type.plural} "${name}" not found`));
    send(res, 200, obj);
  }

  private create(res: ServerResponse, store: Store, namespace: string | undefined, obj: Obj): void {
    const ns = namespace ?? obj.metadata?.namespace;
    if (!obj.metadata?.name) return send(res, 422, status(422, 'Invalid', 'metadata.name: Required value'));
    if (store.objects.has(`${ns ?? ''}/${obj.metadata.name}`))
      return send(res, 409, status(409, 'AlreadyExists', `${store.type.plural} "${obj.metadata.name}" already exists`));
    send(
      res,
      201,
      this.upsert(store.type, { ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } }),
    );
  }

  private replace(res: ServerResponse, store: Store, namespace: string | undefined, name: string, obj: Obj): void {
    const existing = store.objects.get(`${namespace ?? ''}/${name}`);
    if (!existing) return send(res, 404, status(404, 'NotFound', `${store.type.plural} "${name}" not found`));
    const rv = obj.metadata?.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion)
      return send(
        res,
        409,
        status(
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version and try again',
        ),
      );
    send(
      res,
      200,
      this.upsert(store.type, { ...obj, metadata: { ...obj.metadata, name, ...(namespace ? { namespace } : {}) } }),
    );
  }

  /** Server-side apply, as far as the cluster code relies on it (see the class comment); 201 when it created the object. */
  private apply(
    res: ServerResponse,
    store: Store,
    namespace: string | undefined,
    name: string,
    obj: Obj,
    query: URLSearchParams,
  ): void {
    const manager = query.get('fieldManager');
    if (!manager)
      return send(
        res,
        400,
        status(400, 'BadRequest', 'PATCH requests with apply content type must specify fieldManager'),
      );
    if (obj.metadata?.name !== name)
      return send(res, 400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
    const key = `${store.type.group}/${store.type.plural}/${namespace ?? ''}/${name}/${manager}`;
    const existing = store.objects.get(`${namespace ?? ''}/${name}`);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== existing?.metadata.resourceVersion)
      return send(
        res,
        409,
        status(
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version and try again',
        ),
      );
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    const intent = { ...obj, metadata: { ...metadata, ...(namespace ? { namespace } : {}) } } as Obj;
    const base = existing ? (withoutApplied(existing, this.applied.get(key)) as Obj) : undefined;
    this.applied.set(key, intent);
    send(res, existing ? 200 : 201, this.upsert(store.type, (base ? applyMerge(base, intent) : intent) as Obj));
  }

  private patch(
    res: ServerResponse,
    store: Store,
    namespace: string | undefined,
    name: string,
    patch: Record<string, unknown>,
  ): void {
    const existing = store.objects.get(`${namespace ?? ''}/${name}`);
    if (!existing) return send(res, 404, status(404, 'NotFound', `${store.type.plural} "${name}" not found`));
    send(res, 200, this.upsert(store.type, mergePatch(existing, patch) as Obj));
  }
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    code,
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function matchesWatcher(w: Watcher, o: Obj): boolean {
  return (w.namespace === undefined || o.metadata.namespace === w.namespace) && matchesLabels(o, w.labelSelector);
}

/** Equality selectors only (`a=b,c`), which is what the cluster code sends. */
function matchesLabels(o: Obj, selector: string | undefined): boolean {
  if (!selector) return true;
  const labels = (o.metadata.labels ?? {}) as Record<string, string>;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k! in labels : labels[k!] === v;
  });
}

/** Server-side apply's merge, for the shapes the cluster code writes: maps merged, lists and scalars replaced. */
function applyMerge(target: unknown, intent: unknown): unknown {
  if (!isMap(intent) || !isMap(target)) return structuredClone(intent);
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(intent)) out[k] = applyMerge(out[k], v);
  return out;
}

/** The object without the fields a manager applied last time (they are its own: an apply that leaves them out removes them). */
function withoutApplied(target: unknown, applied: unknown): unknown {
  if (!isMap(target) || !isMap(applied)) return target;
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(applied)) {
    if (k === 'name' || k === 'namespace' || k === 'apiVersion' || k === 'kind') continue;
    if (isMap(v) && isMap(out[k])) out[k] = withoutApplied(out[k], v);
    else delete out[k];
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
