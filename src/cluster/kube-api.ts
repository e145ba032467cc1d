import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { isRecord } from '../util/json.js';

/** One answer of the API server: its status, the parsed body, and the Status reason and message (or the start of the body). */
export interface KubeResponse {
  status: number;
  body: unknown;
  reason?: string;
  message: string;
}

/**
 * Why a request never got an answer, in words (a DNS name that does not resolve, a refused connection, a TLS
 * failure, a timeout), from the error node:http(s) throws (the code is on it) or fetch/undici (the code is on its cause:
 * its own message is only "fetch failed").
 */
export function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string; cause?: { code?: string; message?: string } } }).cause;
  const inner = cause?.cause ?? cause;
  const code = inner?.code ?? cause?.code ?? (err as { code?: string }).code;
  const message = inner?.message ?? cause?.message ?? (err as Error).message;
  if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') return `timed out: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS: the host name does not resolve (${code})`;
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED): nothing listens at that address and port';
    case 'ECONNRESET':
      return 'the connection was reset (ECONNRESET)';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `timed out connecting (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
  }
  // Node's TLS verification codes (node:tls, OpenSSL's X509_V_ERR_* names) and ERR_TLS_* errors.
  if (code && (/CERT|SELF_SIGNED|ISSUER|SIGNATURE|ERR_TLS|ERR_SSL/.test(code) || /certificate|TLS|SSL/i.test(message ?? ''))) {
    return `TLS: ${message} (${code}); check the cluster's certificate-authority-data in the kubeconfig`;
  }
  return code ? `${message} (${code})` : (message ?? 'unknown error');
}

/**
 * What an error answer means for a person: 401 is the credentials, 403 is RBAC (the API server's message names the
 * user, the verb and the resource), anything else with its status and reason.
 */
export function statusText(response: Pick<KubeResponse, 'status' | 'reason' | 'message'>): string {
  if (response.status === 401) return `the API server rejected the credentials (401 Unauthorized): ${response.message}; the token or client certificate in the kubeconfig is wrong or expired`;
  if (response.status === 403) return `forbidden by RBAC (403): ${response.message}`;
  return `the API server answered ${response.status}${response.reason ? ` ${response.reason}` : ''}: ${response.message}`;
}

/** statusText after the action that got the answer (`list /api/v1/services`). */
export function describeStatus(action: string, response: Pick<KubeResponse, 'status' | 'reason' | 'message'>): string {
  return `${action}: ${statusText(response)}`;
}

const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A small API client on the kubeconfig's credentials and TLS settings (tokens, client certificates, exec and auth
 * providers, as the informers use them), on Node's own HTTP client: requests and paginated lists.
 */
export class KubeApi {
  readonly server: string;

  constructor(private readonly kubeConfig: KubeConfig) {
    this.server = kubeConfig.getCurrentCluster()!.server.replace(/\/+$/, '');
  }

  /** One GET; a request that gets no answer throws an Error naming the server and the cause. */
  get(path: string, query: Record<string, string> = {}): Promise<KubeResponse> {
    return this.send('GET', path, { query });
  }

  /** One request with an optional JSON body; a request that gets no answer throws an Error naming the server and the cause. */
  async send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { body?: unknown; query?: Record<string, string> } = {}): Promise<KubeResponse> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json' }) };
    const requestOptions: RequestOptions & { headers: Record<string, string> } = { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    await this.kubeConfig.applyToHTTPSOptions(requestOptions as never);
    let status: number;
    let text: string;
    try {
      [status, text] = await new Promise<[number, string]>((resolve, reject) => {
        const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, requestOptions, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve([res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')]));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
    } catch (err) {
      throw new Error(`cannot reach the API server at ${this.server}: ${describeNetworkError(err)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const field = (key: string) => (isRecord(body) && typeof body[key] === 'string' ? body[key] : undefined);
    return { status, body, reason: field('reason'), message: field('message') ?? text.slice(0, 200) };
  }

  /**
   * Lists a collection page by page (`limit`/`continue`), handing each page's items to `onPage` before the next is
   * fetched, so that memory holds one page. Returns false when the first page is a 404 (a resource this cluster does
   * not serve); any other error answer throws, described by describeStatus.
   */
  async list(path: string, limit: number, onPage: (items: unknown[]) => void): Promise<boolean> {
    let cont: string | undefined;
    for (;;) {
      const response = await this.get(path, cont ? { limit: String(limit), continue: cont } : { limit: String(limit) });
      if (response.status === 404 && cont === undefined) return false;
      if (response.status !== 200) throw new Error(describeStatus(`list ${path}`, response));
      const page = response.body as { metadata?: { continue?: string }; items?: unknown[] };
      onPage(page.items ?? []);
      cont = page.metadata?.continue || undefined;
      if (!cont) return true;
    }
  }
}
