import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { parseYamlDocuments } from '../input/yaml.js';
import { isRecord } from '../util/json.js';

/**
 * Who sctp-guard is to the API server and how to reach it, read from a kubeconfig (or the in-cluster service
 * account) as kubectl reads it. Read here, on Node's own modules, rather than through @kubernetes/client-node:
 * client-node's only public entry point loads its ~1,000 generated API classes (~40 MB of RSS more than the live
 * bench's budget allows) and its undici, whose version 8 does not load on Node 20; what sctp-guard needs of it is
 * the kubeconfig format, which client-go defines (k8s.io/client-go/tools/clientcmd/api/v1/types.go).
 */
export interface KubeCredentials {
  /** The API server's URL, without a trailing slash. */
  server: string;
  /** Where the credentials came from, for messages: the kubeconfig file(s), or `in-cluster`. */
  source: string;
  /** TLS settings of every request (node:tls options). */
  tls: {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    rejectUnauthorized: boolean;
    servername?: string;
  };
  /** What one request carries: headers (a bearer token re-read or refreshed as needed) and an exec plugin's client certificate. */
  auth(): Promise<RequestAuth>;
  /** The API server rejected the credentials (401): an exec plugin's cached credential is dropped, as client-go does. */
  rejected(): void;
}

export interface RequestAuth {
  headers: Record<string, string | string[]>;
  cert?: string;
  key?: string;
}

type Raw = Record<string, unknown>;

const EXEC_TIMEOUT_MS = 60_000;

/** The flags and environment credentials are found from. */
export interface CredentialOptions {
  /** A kubeconfig file; without one, $KUBECONFIG, then ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** The kubeconfig context to use instead of its current-context. */
  context?: string;
  /** For tests: the environment to read KUBECONFIG, HOME and the in-cluster variables from. */
  env?: NodeJS.ProcessEnv;
}

const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where live credentials come from, in kubectl's order (flag, $KUBECONFIG, ~/.kube/config, in-cluster). */
export type CredentialSource = { kubeconfig: string; merged?: string[] } | { inCluster: true };

export function liveCredentials(options: CredentialOptions): CredentialSource | undefined {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return { kubeconfig: options.kubeconfig };
  if (env.KUBECONFIG) {
    // kubectl's KUBECONFIG: a list of files, missing ones ignored, merged (client-go clientcmd/loader.go).
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) return { kubeconfig: files[0] ?? env.KUBECONFIG };
    return present.length === 1 ? { kubeconfig: present[0]! } : { kubeconfig: present[0]!, merged: present };
  }
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (home && existsSync(home)) return { kubeconfig: home };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(`${IN_CLUSTER_DIR}/token`)) return { inCluster: true };
  return undefined;
}

/**
 * The credentials for live state, or undefined when there are none (offline use with no state): the one way every
 * command (and serve's informers) loads a kubeconfig. A kubeconfig that cannot be used is an error naming the file.
 */
export function loadCredentials(options: CredentialOptions): KubeCredentials | undefined {
  const found = liveCredentials(options);
  if (!found) return undefined;
  if ('inCluster' in found) return inCluster(options.env ?? process.env);
  const files = found.merged ?? [found.kubeconfig];
  const source = files.join(delimiter);
  const config = mergeKubeconfigs(files.map(readKubeconfig));
  const contexts = () => [...config.contexts.keys()].join(', ') || 'none';
  const name = options.context ?? config.currentContext;
  if (options.context && !config.contexts.has(options.context))
    throw new Error(`kubeconfig ${source}: context "${options.context}" is not in it (contexts: ${contexts()})`);
  const context = name ? config.contexts.get(name) : undefined;
  const cluster = context && typeof context.cluster === 'string' ? config.clusters.get(context.cluster) : undefined;
  if (!cluster || typeof cluster.server !== 'string' || cluster.server === '') {
    const why = !name
      ? 'it sets no current-context'
      : !context
        ? `its current-context "${name}" is not defined in it`
        : `its context "${name}" names no cluster that it defines`;
    throw new Error(`kubeconfig ${source}: ${why}; pick a context with --context (contexts: ${contexts()})`);
  }
  const user = context && typeof context.user === 'string' ? (config.users.get(context.user) ?? {}) : {};
  const where = `kubeconfig ${source}: user "${String(context?.user ?? '')}"`;
  const tls = {
    ca: pemOf(cluster, 'certificate-authority', source),
    cert: pemOf(user, 'client-certificate', source),
    key: pemOf(user, 'client-key', source),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] } : {}),
  };
  if (cluster['proxy-url'])
    throw new Error(
      `kubeconfig ${source}: cluster of context "${name}": proxy-url is not supported; run sctp-guard where the API server is reachable directly`,
    );
  if (isRecord(user['auth-provider'])) {
    throw new Error(
      `${where}: auth-provider "${String(user['auth-provider'].name)}" is not supported (kubectl removed the gcp and azure providers in 1.26): use an exec credential plugin (kubelogin, gke-gcloud-auth-plugin)`,
    );
  }
  const server = cluster.server.replace(/\/+$/, '');
  const impersonation = impersonationHeaders(user);
  const exec = isRecord(user.exec) ? execPlugin(user.exec, where, { server, cluster }) : undefined;
  return {
    server,
    source,
    tls,
    rejected: () => exec?.drop(),
    async auth() {
      const headers: Record<string, string | string[]> = { ...impersonation };
      if (exec) {
        const credential = await exec.get();
        if (credential.token) headers.authorization = `Bearer ${credential.token}`;
        return { headers, ...(credential.cert ? { cert: credential.cert, key: credential.key } : {}) };
      }
      const token =
        typeof user.token === 'string'
          ? user.token
          : typeof user.tokenFile === 'string'
            ? readToken(user.tokenFile, where)
            : undefined;
      if (token) headers.authorization = `Bearer ${token}`;
      else if (typeof user.username === 'string')
        headers.authorization = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64')}`;
      return { headers };
    },
  };
}

/** The service account's token and CA, re-read for each request: the kubelet rotates the projected token. */
function inCluster(env: NodeJS.ProcessEnv): KubeCredentials {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const where = 'in-cluster service account';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    source: 'in-cluster',
    tls: { ca: readFileSync(`${IN_CLUSTER_DIR}/ca.crt`), rejectUnauthorized: true },
    rejected: () => {},
    auth: async () => ({ headers: { authorization: `Bearer ${readToken(`${IN_CLUSTER_DIR}/token`, where)}` } }),
  };
}

function readToken(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `${where}: cannot read the token file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

function readKubeconfig(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `kubeconfig ${file}: ${code === 'ENOENT' ? 'no such file (ENOENT)' : `cannot read (${code ?? (err as Error).message})`}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYamlDocuments(text, file)[0]?.value ?? {};
  } catch (err) {
    const { line, reason } = err as { line?: number; reason?: string };
    throw new Error(
      `kubeconfig ${file}: not a valid kubeconfig: ${line && reason ? `line ${line}: ${reason}` : (err as Error).message.split('\n')[0]}`,
    );
  }
  if (!isRecord(doc)) throw new Error(`kubeconfig ${file}: not a valid kubeconfig: not a mapping`);
  for (const key of ['clusters', 'users', 'contexts']) {
    if (doc[key] !== undefined && doc[key] !== null && !Array.isArray(doc[key]))
      throw new Error(`kubeconfig ${file}: not a valid kubeconfig: ${key} is not a list`);
  }
  return resolvePaths(doc, dirname(resolve(file)));
}

/**
 * File references in a kubeconfig are relative to the file (client-go clientcmd/loader.go, ResolveLocalPaths); an
 * exec command only when it names a path, not a command looked up on PATH.
 */
function resolvePaths(doc: Raw, dir: string): Raw {
  const at = (entry: Raw, key: string) =>
    typeof entry[key] === 'string' && entry[key] !== '' && !isAbsolute(entry[key])
      ? { [key]: resolve(dir, entry[key]) }
      : {};
  const each = (key: string, inner: string, fix: (e: Raw) => Raw) =>
    (Array.isArray(doc[key]) ? doc[key] : [])
      .filter(isRecord)
      .map((n) => ({ ...n, [inner]: isRecord(n[inner]) ? fix(n[inner]) : n[inner] }));
  return {
    ...doc,
    clusters: each('clusters', 'cluster', (c) => ({ ...c, ...at(c, 'certificate-authority') })),
    users: each('users', 'user', (u) => ({
      ...u,
      ...at(u, 'client-certificate'),
      ...at(u, 'client-key'),
      ...at(u, 'tokenFile'),
      ...(isRecord(u.exec) && typeof u.exec.command === 'string' && u.exec.command.includes(sep)
        ? { exec: { ...u.exec, ...at(u.exec, 'command') } }
        : {}),
    })),
    contexts: each('contexts', 'context', (c) => c),
  };
}

interface Kubeconfig {
  clusters: Map<string, Raw>;
  users: Map<string, Raw>;
  contexts: Map<string, Raw>;
  currentContext?: string;
}

/**
 * A KUBECONFIG list merged as kubectl merges it (client-go clientcmd/loader.go, LoadingRules.Load): the first file to
 * set current-context wins, and the first file to define a cluster, user or context name wins.
 */
function mergeKubeconfigs(docs: Raw[]): Kubeconfig {
  const byName = (key: string, inner: string) => {
    const out = new Map<string, Raw>();
    for (const doc of docs) {
      for (const n of doc[key] as Raw[])
        if (typeof n.name === 'string' && !out.has(n.name)) out.set(n.name, isRecord(n[inner]) ? n[inner] : {});
    }
    return out;
  };
  const current = docs.map((d) => d['current-context']).find((c) => typeof c === 'string' && c !== '');
  return {
    clusters: byName('clusters', 'cluster'),
    users: byName('users', 'user'),
    contexts: byName('contexts', 'context'),
    currentContext: current as string | undefined,
  };
}

/** `<key>-data` (base64 PEM) wins over `<key>` (a file), as in client-go. */
function pemOf(entry: Raw, key: string, source: string): Buffer | undefined {
  const data = entry[`${key}-data`];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const file = entry[key];
  if (typeof file !== 'string' || file === '') return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(
      `kubeconfig ${source}: ${key} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

function impersonationHeaders(user: Raw): Record<string, string | string[]> {
  const groups = Array.isArray(user['as-groups']) ? user['as-groups'].map(String) : [];
  return {
    ...(typeof user.as === 'string' && user.as !== '' ? { 'impersonate-user': user.as } : {}),
    ...(groups.length > 0 ? { 'impersonate-group': groups } : {}),
  };
}

interface ExecResult {
  token?: string;
  cert?: string;
  key?: string;
  expiresAt?: number;
}

/**
 * An exec credential plugin (client.authentication.k8s.io, KEP-541; client-go plugin/pkg/client/auth/exec/exec.go):
 * the command runs non-interactively with KUBERNETES_EXEC_INFO, prints an ExecCredential, and its answer is kept
 * until its expirationTimestamp or a 401.
 */
function execPlugin(
  exec: Raw,
  where: string,
  target: { server: string; cluster: Raw },
): { get(): Promise<ExecResult>; drop(): void } {
  const command = typeof exec.command === 'string' ? exec.command : '';
  const apiVersion = typeof exec.apiVersion === 'string' ? exec.apiVersion : '';
  if (!command) throw new Error(`${where}: exec has no command`);
  if (!/^client\.authentication\.k8s\.io\/v1(beta1)?$/.test(apiVersion))
    throw new Error(`${where}: exec apiVersion "${apiVersion}" is not client.authentication.k8s.io/v1 or v1beta1`);
  if (exec.interactiveMode === 'Always')
    throw new Error(
      `${where}: exec plugin ${command} needs a terminal (interactiveMode: Always); sctp-guard runs it without one`,
    );
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const e of Array.isArray(exec.env) ? exec.env.filter(isRecord) : [])
    if (typeof e.name === 'string') env[e.name] = String(e.value ?? '');
  const { cluster } = target;
  const ca = pemOf(cluster, 'certificate-authority', where);
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      ...(exec.provideClusterInfo === true
        ? {
            cluster: {
              server: target.server,
              ...(typeof cluster['tls-server-name'] === 'string'
                ? { 'tls-server-name': cluster['tls-server-name'] }
                : {}),
              ...(cluster['insecure-skip-tls-verify'] === true ? { 'insecure-skip-tls-verify': true } : {}),
              ...(ca ? { 'certificate-authority-data': ca.toString('base64') } : {}),
              ...(isRecord(cluster.extensions) ? { config: cluster.extensions } : {}),
            },
          }
        : {}),
    },
  });
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const hint = typeof exec.installHint === 'string' ? `; ${exec.installHint.trim()}` : '';
  let cached: ExecResult | undefined;
  let running: Promise<ExecResult> | undefined;
  const run = () =>
    new Promise<ExecResult>((resolvePromise, reject) => {
      execFile(command, args, { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const why =
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'not found'
              : `failed: ${(stderr.trim().split('\n').at(-1) || err.message).slice(0, 300)}`;
          return reject(new Error(`${where}: exec plugin ${command} ${why}${hint}`));
        }
        try {
          resolvePromise(execResult(JSON.parse(stdout), apiVersion));
        } catch (e) {
          reject(
            new Error(`${where}: exec plugin ${command} printed no usable ExecCredential: ${(e as Error).message}`),
          );
        }
      });
    });
  return {
    async get() {
      if (cached && (cached.expiresAt === undefined || cached.expiresAt > Date.now())) return cached;
      running ??= run().finally(() => (running = undefined));
      cached = await running;
      return cached;
    },
    drop: () => (cached = undefined),
  };
}

function execResult(answer: unknown, apiVersion: string): ExecResult {
  if (!isRecord(answer) || answer.kind !== 'ExecCredential' || !isRecord(answer.status))
    throw new Error('expected kind ExecCredential with a status');
  if (answer.apiVersion !== apiVersion)
    throw new Error(`apiVersion ${String(answer.apiVersion)}, asked for ${apiVersion}`);
  const { token, clientCertificateData: cert, clientKeyData: key, expirationTimestamp } = answer.status;
  if (typeof token !== 'string' && !(typeof cert === 'string' && typeof key === 'string'))
    throw new Error('neither status.token nor status.clientCertificateData and clientKeyData');
  const expiresAt = typeof expirationTimestamp === 'string' ? Date.parse(expirationTimestamp) : undefined;
  return {
    ...(typeof token === 'string' ? { token } : {}),
    ...(typeof cert === 'string' && typeof key === 'string' ? { cert, key } : {}),
    ...(expiresAt !== undefined && Number.isFinite(expiresAt) ? { expiresAt } : {}),
  };
}
