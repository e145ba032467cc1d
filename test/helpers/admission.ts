/** Builders shared by the tests: AdmissionReviews from real manifests, an HTTPS app, a captured audit log. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { get as httpGetRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeDevCerts, type DevCertFiles } from '../../src/cli/certs.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { engineRequest } from '../../src/engine/request.js';
import type { KubeObject, Operation } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { Policy } from '../../src/policy/types.js';
import { parseYamlDocuments } from '../../src/input/yaml.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { buildApp, buildMetricsApp, buildProbeApp, type AppOptions } from '../../src/server/app.js';
import type { MetricsEndpoint } from '../../src/server/metrics.js';
import { createLogger } from '../../src/server/logger.js';
import { readKeyPair } from '../../src/server/tls.js';
import { kindInfo } from '../../src/util/kinds.js';
import { repoPath } from './repo.js';

export const EXAMPLES_DIR = repoPath('examples');

/** Every object of an examples/ manifest, parsed as kubectl would (YAML 1.1). */
export function exampleObjects(file: string): KubeObject[] {
  const path = join(EXAMPLES_DIR, file);
  return parseYamlDocuments(readFileSync(path, 'utf8'), path).map((d) => d.value as KubeObject);
}

export function exampleObject(file: string, kind: string, name?: string): KubeObject {
  const found = exampleObjects(file).find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in examples/${file}`);
  return found;
}

let uidCounter = 0;

export interface ReviewOptions {
  apiVersion?: 'admission.k8s.io/v1' | 'admission.k8s.io/v1beta1';
  operation?: Operation;
  oldObject?: KubeObject | null;
  uid?: string;
  dryRun?: boolean;
  namespace?: string;
}

/** The AdmissionReview the API server would send for `object`. */
export function admissionReview(object: KubeObject | null, options: ReviewOptions = {}) {
  const source = object ?? options.oldObject ?? {};
  const { gvk, namespace } = engineRequest({ object: source });
  const { group, version, kind } = gvk;
  // The resource of a kind sctp-guard reads; other kinds (GatewayClass, ConfigMap) never reach the webhook.
  const info = kindInfo(group, kind);
  const operation = options.operation ?? 'CREATE';
  return {
    apiVersion: options.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? `uid-${++uidCounter}`,
      kind: gvk,
      ...(info ? { resource: { group, version, resource: info.resource } } : {}),
      name: source.metadata?.name,
      namespace: options.namespace ?? (namespace || undefined),
      operation,
      userInfo: { username: 'tester', groups: ['system:authenticated'] },
      object: operation === 'DELETE' ? null : object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
    },
  };
}

/** A logger whose JSON lines land in an array, to assert on the audit trail. */
export function capturedLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

export interface TestAppOptions extends Partial<Omit<AppOptions, 'engine' | 'logger' | 'cluster'>> {
  policy?: Policy;
  snapshot?: ClusterSnapshot;
}

export function testApp(options: TestAppOptions = {}) {
  const { policy = defaultPolicy(), snapshot = EMPTY_SNAPSHOT, ...rest } = options;
  const { logger, lines } = capturedLogger();
  const app = buildApp({
    engine: new Engine(ALL_RULES, policy),
    cluster: { snapshot: () => snapshot, readiness: () => ({ ready: true, reason: 'test' }) },
    logger,
    ...rest,
  });
  return { app, auditLines: lines };
}

/** The probe listener (GET /healthz, /readyz, and /debug/nodes with `debug`) over the same snapshot, for `inject`. */
export function testProbeApp(
  options: {
    policy?: Policy;
    snapshot?: ClusterSnapshot;
    ready?: boolean;
    draining?: () => boolean;
    debug?: boolean;
  } = {},
) {
  const { policy = defaultPolicy(), snapshot = EMPTY_SNAPSHOT, ready = true, draining, debug } = options;
  return buildProbeApp({
    cluster: { snapshot: () => snapshot, readiness: () => ({ ready, reason: 'test' }) },
    policy,
    draining,
    debug,
  });
}

/** The metrics listener (GET /metrics), for `inject`. */
export function testMetricsApp(metrics: MetricsEndpoint) {
  return buildMetricsApp({ metrics });
}

let devCerts: DevCertFiles | undefined;
/**
 * One set of dev certificates (CA and serving pair, from the product's writeDevCerts) per test process: making one
 * costs about 0.8 s of CPU, most of it RSA key generation. Tests must not overwrite these files.
 */
export function testDevCerts(): DevCertFiles {
  return (devCerts ??= writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-test-')) }));
}

/** The same app on real HTTPS with the process's dev certificates, on a port the OS picks. */
export async function startHttpsApp(options: TestAppOptions = {}) {
  const files = testDevCerts();
  const { app, auditLines } = testApp({ ...options, tls: readKeyPair(files.cert, files.key) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const ca = readFileSync(files.caCert);
  const post = (
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => httpsPost(port, ca, path, body, headers);
  return { app, port, ca, auditLines, post, close: () => app.close() };
}

export interface HttpResult {
  statusCode: number;
  body: string;
  json(): any;
}

export function httpsPost(
  port: number,
  ca: Buffer,
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
  method = 'POST',
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca,
        servername: 'localhost',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ statusCode: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A plain-HTTP GET on loopback (the probe and metrics listeners), on a fresh connection. */
export function httpGet(port: number, path: string): Promise<HttpResult & { contentType: string }> {
  return new Promise((resolve, reject) => {
    httpGetRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          statusCode: res.statusCode ?? 0,
          body: text,
          json: () => JSON.parse(text),
          contentType: String(res.headers['content-type'] ?? ''),
        });
      });
    }).on('error', reject);
  });
}

/** A RuleInput for calling a rule's evaluate directly. */
export function ruleInput(
  object: KubeObject | null,
  overrides: Partial<import('../../src/engine/types.js').RuleInput> = {},
): import('../../src/engine/types.js').RuleInput {
  const { snapshot = EMPTY_SNAPSHOT, policy = defaultPolicy(), ...request } = overrides;
  return { ...engineRequest({ object, ...request }), snapshot, policy };
}
