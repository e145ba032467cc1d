import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isRecord } from '../util/json.js';
import type { KubeCredentials } from './kubeconfig.js';
import { elideLongStrings, parseElided, type UnreadStrings } from '../input/elided-strings.js';
import { ChunkedLines, JsonListSplitter, MAX_OBJECT_BYTES } from '../input/list-stream.js';

/**
 * The one module that talks to the API server, for every command and for serve's informers: discovery, reads,
 * lists streamed item by item, watches, server-side apply under one field manager, deletes, and one vocabulary of
 * errors. It runs on Node's own HTTP client with the kubeconfig's credentials (./kubeconfig.ts), so it does not
 * depend on which HTTP library a dependency brings.
 */

/** The field manager of every write (server-side apply): `kubectl get -o yaml --show-managed-fields` names it. */
export const FIELD_MANAGER = 'sctp-guard';

/** What went wrong, as a caller decides on it (retry, skip, exit 2). */
export type KubeErrorKind =
  /** No answer: DNS, refused, reset, TLS, timeout. */
  | 'unreachable'
  /** 401: the credentials were rejected. */
  | 'unauthorized'
  /** 403: RBAC. */
  | 'forbidden'
  | 'not-found'
  /** 409: a precondition (resourceVersion) or an object that already exists. */
  | 'conflict'
  /** 410: a watch's resourceVersion was compacted. */
  | 'gone'
  /** 5xx: the API server is there but not serving. */
  | 'unavailable'
  /** Something answered, but not a Kubernetes API server (discovery failed). */
  | 'not-kubernetes'
  /** Any other answer (400, 422, ...). */
  | 'failed';

export class KubeError extends Error {
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

/** One answer read whole (bounded): its status, content type, parsed JSON body (undefined when not JSON). */
interface Answer {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Why a request never got an answer, in words (a DNS name that does not resolve, a refused connection, a TLS
 * failure, a timeout), from the error node:http(s) throws.
 */
export function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; name?: string };
  const code = e.code;
  const message = e.message ?? String(err);
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ABORT_ERR')
    return `timed out: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS: the host name does not resolve (${code})`;
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED): nothing listens at that address and port';
    case 'ECONNRESET':
      return 'the connection was reset (ECONNRESET)';
    case 'ETIMEDOUT':
      return `timed out connecting (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
  }
  // Node's TLS verification codes (node:tls, OpenSSL's X509_V_ERR_* names) and ERR_TLS_* errors.
  if (
    code &&
    (/CERT|SELF_SIGNED|ISSUER|SIGNATURE|ERR_TLS|ERR_SSL/.test(code) || /certificate|TLS|SSL/i.test(message))
  ) {
    return `TLS: ${message} (${code}); check the cluster's certificate-authority-data in the kubeconfig`;
  }
  return code ? `${message} (${code})` : message;
}

/** The Status message of an error answer, or the start of its body. */
function statusMessage(answer: Pick<Answer, 'body' | 'text'>): { reason?: string; message: string } {
  const field = (key: string) =>
    isRecord(answer.body) && typeof answer.body[key] === 'string' ? answer.body[key] : undefined;
  return { reason: field('reason'), message: field('message') ?? (answer.text.slice(0, 200) || 'no message') };
}

/**
 * An error answer in words after the action that got it: 401 is the credentials, 403 is RBAC (the API server's
 * message names the user, the verb and the resource), anything else with its status and reason.
 */
export function answerError(action: string, status: number, answer: Pick<Answer, 'body' | 'text'>): KubeError {
  const { reason, message } = statusMessage(answer);
  if (status === 401)
    return new KubeError(
      'unauthorized',
      `${action}: the API server rejected the credentials (401 Unauthorized): ${message}; the token or client certificate in the kubeconfig is wrong or expired`,
      status,
    );
  if (status === 403) return new KubeError('forbidden', `${action}: forbidden by RBAC (403): ${message}`, status);
  const kind: KubeErrorKind =
    status === 404
      ? 'not-found'
      : status === 409
        ? 'conflict'
        : status === 410
          ? 'gone'
          : status >= 500
            ? 'unavailable'
            : 'failed';
  return new KubeError(
    kind,
    `${action}: the API server answered ${status}${reason ? ` ${reason}` : ''}: ${message}`,
    status,
  );
}

export interface StreamOptions {
  query?: Record<string, string>;
  /** Cut the request when no data came for this long: from the start, and (`rearm`) again after each chunk. */
  idleMs: number;
  rearm?: boolean;
  signal?: AbortSignal;
  /** Called when the answer is 200, before its body. */
  onOpen?: () => void;
}

export class KubeApi {
  readonly server: string;

  constructor(private readonly credentials: KubeCredentials) {
    this.server = credentials.server;
  }

  /**
   * Discovery, before anything is listed: GET /version, /api and /apis must answer as a Kubernetes API server does
   * (k8s.io/apimachinery version.Info, metav1.APIVersions, metav1.APIGroupList). Anything else that answers (a web
   * server's 404 page, a proxy's login form) would otherwise read as a cluster with nothing in it.
   */
  async verifyKubernetes(): Promise<void> {
    const checks: Array<[string, (body: Record<string, unknown>) => boolean, string]> = [
      ['/version', (b) => typeof b.gitVersion === 'string', 'a version.Info with gitVersion'],
      ['/api', (b) => b.kind === 'APIVersions' && Array.isArray(b.versions), 'an APIVersions list'],
      ['/apis', (b) => b.kind === 'APIGroupList' && Array.isArray(b.groups), 'an APIGroupList'],
    ];
    const answers = await Promise.all(checks.map(([path]) => this.request('GET', path)));
    checks.forEach(([path, shape, expected], i) => {
      const answer = answers[i]!;
      if (answer.status === 401 || answer.status === 403)
        throw answerError(`GET ${this.server}${path}`, answer.status, answer);
      if (answer.status >= 500)
        throw new KubeError(
          'unavailable',
          `the API server at ${this.server} is not serving (${answer.status}): ${statusMessage(answer).message}`,
          answer.status,
        );
      if (answer.status === 200 && isRecord(answer.body) && shape(answer.body)) return;
      const what = `${answer.status} ${answer.contentType || 'with no content type'}${answer.status === 200 ? `, not ${expected}` : ''}`;
      throw new KubeError(
        'not-kubernetes',
        `${this.server} is not a Kubernetes API server: GET ${path} answered ${what}`,
        answer.status,
      );
    });
  }

  /** One object, or undefined when there is none (404). */
  async read(path: string): Promise<Record<string, unknown> | undefined> {
    const answer = await this.request('GET', path);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200 || !isRecord(answer.body)) throw answerError(`get ${path}`, answer.status, answer);
    return answer.body;
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml, fieldManager sctp-guard, force: sctp-guard's fields are
   * its own). Fields set by others are kept; a `metadata.resourceVersion` in the object is a precondition (409).
   */
  async apply(path: string, object: Record<string, unknown>): Promise<'created' | 'configured'> {
    const answer = await this.request('PATCH', path, {
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
    if (answer.status === 201) return 'created';
    if (answer.status === 200) return 'configured';
    throw answerError(`apply ${path}`, answer.status, answer);
  }

  /** Deletes an object; false when there was none. */
  async delete(path: string): Promise<boolean> {
    const answer = await this.request('DELETE', path);
    if (answer.status === 404) return false;
    if (answer.status === 200 || answer.status === 202) return true;
    throw answerError(`delete ${path}`, answer.status, answer);
  }

  /**
   * Lists a collection page by page (`limit`/`continue`), each item handed over as it is parsed (a page is never
   * held whole). Returns false when the first page is a 404 (a resource this cluster does not serve), else the
   * list's resourceVersion. Any other error answer throws.
   */
  async list(
    path: string,
    options: {
      limit: number;
      labelSelector?: string;
      timeoutMs?: number;
      signal?: AbortSignal;
      /** String values the caller never reads: left out of the items it gets (elided-strings.ts). */
      unread?: UnreadStrings;
    },
    onItem: (item: unknown) => void,
  ): Promise<{ resourceVersion?: string } | false> {
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      let metadata: { resourceVersion?: string; continue?: string } = {};
      const unread = options.unread;
      const splitter = new JsonListSplitter(
        {
          item: (text, _line, elided) => onItem(parseElided(text, elided, unread)),
          field: (key, text) => {
            if (key === 'metadata') metadata = JSON.parse(text) as typeof metadata;
          },
        },
        unread !== undefined,
      );
      const query = {
        limit: String(options.limit),
        ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
        ...(cont ? { continue: cont } : {}),
      };
      try {
        await this.stream(
          path,
          { query, idleMs: options.timeoutMs ?? REQUEST_TIMEOUT_MS, signal: options.signal },
          (chunk) => splitter.push(chunk),
        );
      } catch (err) {
        if (err instanceof KubeError && err.kind === 'not-found' && cont === undefined) return false;
        throw err;
      }
      splitter.end();
      resourceVersion = metadata.resourceVersion;
      cont = metadata.continue || undefined;
    } while (cont);
    return { resourceVersion };
  }

  /**
   * A watch from `resourceVersion` (bookmarks asked for, so a quiet resource keeps a fresh one): each event handed
   * over as its line arrives; resolves when the server ends the watch cleanly. An ERROR event throws its status
   * (410 Gone: list again).
   */
  async watch(
    path: string,
    resourceVersion: string,
    options: Omit<StreamOptions, 'query' | 'rearm'> & {
      /** String values the caller never reads: left out of the objects it gets (elided-strings.ts). */
      unread?: UnreadStrings;
    },
    onEvent: (event: { type?: string; object?: unknown }) => void,
  ): Promise<void> {
    const { unread } = options;
    // Paths are taken from the event's object, which is what `unread` knows.
    const unreadInEvent: UnreadStrings | undefined =
      unread &&
      ((event, at, read) => at[0] === 'object' && unread((event as { object?: unknown }).object, at.slice(1), read));
    // A line is read in the chunks it came in: a 500 KB rendered MachineConfig arrives in dozens, and is never
    // joined into one string when its long values can be left out.
    const lines = new ChunkedLines(MAX_OBJECT_BYTES, () => {
      throw new KubeError('failed', `watch ${path}: an event larger than ${MAX_OBJECT_BYTES / 2 ** 20} MiB`);
    });
    const event = (parts: string[]) => {
      const { text, elided } =
        unreadInEvent && parts.length > 1 ? elideLongStrings(parts) : { text: parts.join(''), elided: undefined };
      if (!elided && text.trim() === '') return;
      const e = parseElided(text, elided, unreadInEvent) as { type?: string; object?: unknown };
      if (e.type === 'ERROR') {
        const status = isRecord(e.object) && typeof e.object.code === 'number' ? e.object.code : 500;
        throw answerError(`watch ${path}`, status, { body: e.object, text: '' });
      }
      onEvent(e);
    };
    await this.stream(
      path,
      { ...options, rearm: true, query: { watch: 'true', allowWatchBookmarks: 'true', resourceVersion } },
      (chunk) => lines.push(chunk, event),
    );
  }

  /** GET with the body handed over as it arrives (lists and watches); an error answer throws. */
  async stream(path: string, options: StreamOptions, onChunk: (chunk: string) => void): Promise<void> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const what = `${options.rearm ? 'watch' : 'list'} ${path}`;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, options.idleMs);
      timer.unref();
    };
    arm();
    try {
      const res = await this.open('GET', path, { query: options.query, signal });
      if (res.statusCode !== 200) {
        const answer = await readAnswer(res);
        throw answerError(what, answer.status, answer);
      }
      options.onOpen?.();
      res.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: string) => {
          if (options.rearm) arm();
          try {
            onChunk(chunk);
          } catch (err) {
            res.destroy();
            reject(err);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('close', () => reject(new KubeError('unreachable', `${what}: connection closed mid-answer`)));
      });
    } catch (err) {
      if (timedOut) throw new KubeError('unreachable', `${what}: no data for ${options.idleMs} ms`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request, its answer read whole (up to MAX_OBJECT_BYTES). */
  private async request(
    method: string,
    path: string,
    options: { query?: Record<string, string>; body?: unknown; contentType?: string } = {},
  ): Promise<Answer> {
    const res = await this.open(method, path, { ...options, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    try {
      return await readAnswer(res);
    } catch (err) {
      throw err instanceof KubeError
        ? err
        : new KubeError('unreachable', `cannot reach the API server at ${this.server}: ${describeNetworkError(err)}`);
    }
  }

  /** Sends a request with the credentials; a request that gets no answer throws KubeError 'unreachable' naming the server. */
  private async open(
    method: string,
    path: string,
    options: { query?: Record<string, string>; body?: unknown; contentType?: string; signal: AbortSignal },
  ): Promise<IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    // Tokens from exec plugins are refreshed here when they expire; the token file is re-read.
    const auth = await this.credentials.auth();
    const { tls } = this.credentials;
    const requestOptions: RequestOptions & Record<string, unknown> = {
      method,
      headers: {
        accept: 'application/json',
        ...auth.headers,
        ...(payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
      },
      signal: options.signal,
      ca: tls.ca,
      cert: auth.cert ?? tls.cert,
      key: auth.key ?? tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername ? { servername: tls.servername } : {}),
    };
    try {
      return await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, requestOptions, (res) => {
          if (res.statusCode === 401) this.credentials.rejected();
          resolve(res);
        });
        req.on('error', reject);
        req.end(payload);
      });
    } catch (err) {
      if (
        options.signal.aborted &&
        (err as Error).name === 'AbortError' &&
        options.signal.reason?.name !== 'TimeoutError'
      )
        throw err;
      throw new KubeError('unreachable', `cannot reach the API server at ${this.server}: ${describeNetworkError(err)}`);
    }
  }
}

async function readAnswer(res: IncomingMessage): Promise<Answer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_OBJECT_BYTES) {
      res.destroy();
      throw new KubeError('failed', `an answer larger than ${MAX_OBJECT_BYTES / 2 ** 20} MiB`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return {
    status: res.statusCode ?? 0,
    contentType: String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim(),
    body,
    text,
  };
}
