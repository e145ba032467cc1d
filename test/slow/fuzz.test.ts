import t, { type Test } from 'tap';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KubeObject } from '../../src/engine/types.js';
import { admissionReview, exampleObject, testApp } from '../helpers/admission.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const SEEDS: KubeObject[] = [
  exampleObject('ako-sctp-loadbalancer.yaml', 'Service'),
  exampleObject('antrea-npl-sctp-service.yaml', 'Service'),
  exampleObject('openshift-sctp-pod.yaml', 'Pod'),
  exampleObject('ako-sctp-loadbalancer.yaml', 'Deployment'),
  exampleObject('ako-sctp-gateway.yaml', 'Gateway'),
  exampleObject('networkpolicy-sctp.yaml', 'NetworkPolicy', 'sctp-demo-allow'),
  exampleObject('openshift-machineconfig-load-sctp-2.2.0.yaml', 'MachineConfig'),
  exampleObject('openshift-machineconfig-load-sctp-3.2.0.yaml', 'MachineConfig'),
];

/** Every path of a JSON value, so a property can replace any field of the envelope or of the object. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setAt(root: unknown, path: Array<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cursor = copy;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>;
  cursor[path.at(-1)!] = replacement;
  return copy;
}

const weird = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    'SCTP',
    'sctp',
    'LoadBalancer',
    [],
    {},
    '\u0000',
    '\ud83d\ude00'.repeat(50),
  ),
  fc.array(fc.record({ protocol: fc.constantFrom('SCTP', 'TCP', 7, null), port: fc.anything() }), { maxLength: 5 }),
);

const mutatedReview = fc
  .tuple(fc.constantFrom(...SEEDS), fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'), fc.nat(), weird)
  .map(([obj, apiVersion, pick, replacement]) => {
    const review = admissionReview(obj, { apiVersion: apiVersion as 'admission.k8s.io/v1' });
    const all = paths(review);
    return setAt(review, all[pick % all.length]!, replacement);
  });

/** A response is either a well-formed error (400/413 with a reason) or a well-formed AdmissionReview for this uid. */
function checkResponse(t: Test, body: unknown, statusCode: number, payload: string): boolean {
  if (statusCode === 400 || statusCode === 413) {
    const err = JSON.parse(payload) as { statusCode: number; reason: string };
    return err.statusCode === statusCode && typeof err.reason === 'string' && err.reason.length > 0;
  }
  if (statusCode !== 200) return t.fail(`unexpected status ${statusCode}: ${payload.slice(0, 300)}`) && false;
  const out = JSON.parse(payload) as {
    apiVersion: string;
    kind: string;
    response: { uid: string; allowed: boolean; patch?: string; patchType?: string };
  };
  const req = body as { apiVersion: string; request: { uid: string } };
  const ok =
    out.kind === 'AdmissionReview' &&
    out.apiVersion === req.apiVersion &&
    out.response.uid === req.request.uid &&
    typeof out.response.allowed === 'boolean' &&
    (out.response.patch === undefined ||
      (out.response.patchType === 'JSONPatch' &&
        Array.isArray(JSON.parse(Buffer.from(out.response.patch, 'base64').toString()))));
  if (!ok) t.fail(`malformed AdmissionReview: ${payload.slice(0, 300)}`);
  return ok;
}

t.test('random fields of every kind of review: a 400 or a well-formed AdmissionReview, never a 500', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  await fc.assert(
    fc.asyncProperty(mutatedReview, fc.constantFrom('/validate', '/mutate'), async (body, url) => {
      const res = await app.inject({
        method: 'POST',
        url,
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return checkResponse(t, body, res.statusCode, res.payload);
    }),
    { numRuns: 1500, seed: 20261125 },
  );
});

t.test('random bytes and random JSON bodies', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.json({ maxDepth: 4 })), async (payload) => {
      const res = await app.inject({
        method: 'POST',
        url: '/validate',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      return res.statusCode === 400 && typeof JSON.parse(res.payload).reason === 'string';
    }),
    { numRuns: 500, seed: 7 },
  );
});

t.test('adversarial bodies: prototype keys, deep nesting, huge arrays, odd numbers, unicode', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  const svc = exampleObject('ako-sctp-loadbalancer.yaml', 'Service');
  const good = admissionReview(svc);
  const text = JSON.stringify(good);
  const cases: Record<string, string> = {
    proto: text.replace('"metadata":{', '"metadata":{"__proto__":{"polluted":true},'),
    constructor: text.replace('"metadata":{', '"metadata":{"constructor":{"prototype":{"polluted":true}},'),
    deepArray: text.replace('"spec":{', `"deep":${'['.repeat(50_000)}${']'.repeat(50_000)},"spec":{`),
    deepObject: text.replace('"spec":{', `"deep":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)},"spec":{`),
    hugePorts: JSON.stringify(
      admissionReview({
        ...svc,
        spec: {
          type: 'LoadBalancer',
          ports: Array.from({ length: 60_000 }, (_, i) => ({ port: i, protocol: i % 2 ? 'SCTP' : 'TCP' })),
        },
      }),
    ),
    bigNumbers: text
      .replace('"port":80', '"port":1e400')
      .replace('"targetPort":9090', '"targetPort":-99999999999999999999999'),
    unicodeNames: JSON.stringify(admissionReview({ ...svc, metadata: { name: 'ſ𝔰𝔯𝔳\u202e\u0000', namespace: 'ünï' } })),
  };
  for (const [name, payload] of Object.entries(cases)) {
    const res = await app.inject({
      method: 'POST',
      url: '/validate',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    t.ok([200, 400, 413].includes(res.statusCode), `${name}: ${res.statusCode}`);
    t.ok(
      checkResponse(
        t,
        JSON.parse(payload.length < 5_000_000 && res.statusCode === 200 ? payload : '{}'),
        res.statusCode,
        res.payload,
      ) || res.statusCode !== 200,
      name,
    );
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  const res = await app.inject({
    method: 'POST',
    url: '/validate',
    payload: text,
    headers: { 'content-type': 'application/json' },
  });
  t.equal(res.statusCode, 200, 'still serving');
  t.equal(res.json().response.allowed, false, 'and still deciding correctly');
});

t.test('memory returns to its baseline after a storm of bad and good requests', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  const warm = async (n: number) => {
    await fc.assert(
      fc.asyncProperty(mutatedReview, async (body) => {
        const res = await app.inject({
          method: 'POST',
          url: '/validate',
          payload: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
        return res.statusCode < 500;
      }),
      { numRuns: n, seed: n },
    );
  };
  await warm(300);
  gc();
  const baseline = process.memoryUsage().heapUsed;
  await warm(3000);
  gc();
  const after = process.memoryUsage().heapUsed;
  t.ok(
    after < baseline + 8 * 1024 * 1024,
    `heap after ${Math.round(after / 1e6)} MB vs baseline ${Math.round(baseline / 1e6)} MB`,
  );
});
