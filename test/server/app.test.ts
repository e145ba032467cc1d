import t from 'tap';
import { readdirSync } from 'node:fs';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { KubeObject } from '../../src/engine/types.js';
import { admissionReview, EXAMPLES_DIR, exampleObject, exampleObjects, startHttpsApp } from '../helpers/admission.js';

const VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;

t.test('every example manifest gets a well-formed AdmissionReview over HTTPS, in v1 and v1beta1', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));
  t.ok(files.length >= 10, 'the docs examples are in examples/');
  for (const file of files) {
    for (const obj of exampleObjects(file)) {
      for (const apiVersion of VERSIONS) {
        const body = admissionReview(obj, { apiVersion });
        const res = await server.post('/validate', JSON.stringify(body));
        t.equal(res.statusCode, 200, `${file} ${obj.kind} ${apiVersion}`);
        const out = res.json();
        t.equal(out.apiVersion, apiVersion, 'answers in the request apiVersion');
        t.equal(out.kind, 'AdmissionReview');
        t.equal(out.response.uid, body.request.uid, 'echoes the uid');
        t.type(out.response.allowed, 'boolean');
      }
    }
  }
});

async function decide(
  server: Awaited<ReturnType<typeof startHttpsApp>>,
  obj: KubeObject,
  apiVersion: (typeof VERSIONS)[number] = 'admission.k8s.io/v1',
) {
  const res = await server.post('/validate', JSON.stringify(admissionReview(obj, { apiVersion })));
  return res.json().response;
}

t.test('the documentation SCTP Services are allowed; the AKO LoadBalancer one is denied by default', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  for (const apiVersion of VERSIONS) {
    t.equal(
      (await decide(server, exampleObject('openshift-sctp-service-clusterip.yaml', 'Service'), apiVersion)).allowed,
      true,
      'ClusterIP',
    );
    t.equal(
      (await decide(server, exampleObject('openshift-sctp-verify.yaml', 'Service'), apiVersion)).allowed,
      true,
      'NodePort',
    );
    t.equal(
      (await decide(server, exampleObject('openshift-sctp-service-default-type.yaml', 'Service'), apiVersion)).allowed,
      true,
      'no type',
    );
    const lb = await decide(server, exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), apiVersion);
    t.equal(lb.allowed, false, 'LoadBalancer denied');
    t.equal(lb.status.code, 403);
    t.equal(lb.status.reason, 'Forbidden');
    t.match(
      lb.status.message,
      /\[sctp-service-type\] Service default\/server: SCTP ports 80\/SCTP of type LoadBalancer are outside/,
    );
    t.match(lb.status.message, /which preset openshift-baremetal enforces .*; allowed types: ClusterIP, NodePort\./);
    t.match(lb.status.message, /allowedServiceTypes/, 'says how to change the policy');
    t.match(lb.auditAnnotations, { 'sctp-service-type': /^deny: / });
    for (const key of Object.keys(lb.auditAnnotations)) t.notMatch(key, /\//, 'audit annotation keys carry no slash');
    const gw = await decide(server, exampleObject('ako-sctp-gateway.yaml', 'Gateway'), apiVersion);
    t.equal(gw.allowed, false, 'SCTP Gateway denied');
    t.match(gw.status.message, /\[sctp-gateway-listener\] Gateway svcapi\/my-gateway: SCTP listener 6060\/SCTP/);
  }
});

t.test('the ako preset allows SCTP LoadBalancer Services and Gateways', async (t) => {
  const server = await startHttpsApp({ policy: defaultPolicy('ako') });
  t.teardown(server.close);
  for (const apiVersion of VERSIONS) {
    t.equal((await decide(server, exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), apiVersion)).allowed, true);
    t.equal((await decide(server, exampleObject('ako-sctp-gateway.yaml', 'Gateway'), apiVersion)).allowed, true);
  }
});

t.test('an NPL-annotated SCTP Service is allowed with the NodePortLocal warning', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  for (const apiVersion of VERSIONS) {
    const res = await decide(server, exampleObject('antrea-npl-sctp-service.yaml', 'Service'), apiVersion);
    t.equal(res.allowed, true);
    const npl = (res.warnings as string[]).filter((w) => w.includes('[nodeportlocal-sctp]'));
    t.equal(npl.length, 1, 'one NPL warning');
    t.match(npl[0], /Service default\/sctp-npl: Antrea NodePortLocal cannot carry SCTP/);
    for (const w of res.warnings as string[]) {
      t.ok(w.length < 120, 'each warning is under 120 characters');
      t.notMatch(w, /[\n\r]/, 'each warning is one line');
    }
  }
});

t.test('a TCP LoadBalancer Service is untouched', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const svc = structuredClone(exampleObject('ako-sctp-loadbalancer.yaml', 'Service')) as KubeObject & {
    spec: { ports: Array<{ protocol: string }> };
  };
  svc.spec.ports[0]!.protocol = 'TCP';
  const res = await decide(server, svc);
  t.same(res, { uid: res.uid, allowed: true }, 'no warnings, no annotations, no status');
  const audit = server.auditLines.at(-1)!;
  t.equal(audit.decision, 'allow');
});

t.test('bad requests get documented status codes, and the next good request still succeeds', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const good = JSON.stringify(admissionReview(exampleObject('openshift-sctp-service-clusterip.yaml', 'Service')));
  const missingUid = admissionReview(exampleObject('openshift-sctp-service-clusterip.yaml', 'Service')) as {
    request: Record<string, unknown>;
  };
  delete missingUid.request.uid;
  const cases: Array<[string, string | Buffer, number, RegExp, Record<string, string>?]> = [
    ['garbage body', 'this is not json {', 400, /malformed JSON/],
    ['empty body', '', 400, /empty body/],
    [
      'wrong apiVersion',
      JSON.stringify({ ...JSON.parse(good), apiVersion: 'admission.k8s.io/v2' }),
      400,
      /unknown apiVersion: expected one of admission.k8s.io\/v1, admission.k8s.io\/v1beta1/,
    ],
    ['wrong kind', JSON.stringify({ ...JSON.parse(good), kind: 'Pod' }), 400, /kind must be "AdmissionReview"/],
    ['missing uid', JSON.stringify(missingUid), 400, /request\.uid is required/],
    [
      'missing request',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      400,
      /request is required/,
    ],
    ['a JSON array', '[]', 400, /must be object/],
    ['wrong content type', good, 400, /content type/, { 'content-type': 'text/plain' }],
    ['5 MB body', Buffer.alloc(5 * 1024 * 1024, 'a'), 413, /too large/],
    [
      'a million empty objects',
      good.replace('"spec":{', `"x":[${Array(1_000_000).fill('{}').join(',')}],"spec":{`),
      413,
      /body too large: more than 100000 JSON objects and arrays/,
    ],
  ];
  for (const [name, body, code, reason, headers] of cases) {
    const res = await server.post('/validate', body, headers);
    t.equal(res.statusCode, code, name);
    const err = res.json();
    t.equal(err.statusCode, code, `${name}: JSON error body`);
    t.match(err.reason, reason, `${name}: names the problem`);
    const next = await server.post('/validate', good);
    t.equal(next.statusCode, 200, `after ${name} the server still answers`);
    t.equal(next.json().response.allowed, true);
  }
});

t.test(
  'JSON as data: __proto__, constructor and prototype keys get a verdict, are read, and pollute nothing',
  async (t) => {
    const server = await startHttpsApp();
    t.teardown(server.close);
    const mc = {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfig',
      metadata: {
        name: '99-worker-proto',
        labels: { 'machineconfiguration.openshift.io/role': 'worker', constructor: 'a', prototype: 'b' },
      },
      spec: {
        config: {
          ignition: { version: '3.2.0' },
          PROTO: { polluted: true },
          storage: {
            files: [
              { path: '/etc/x', contents: { source: 'data:,x' }, constructor: { prototype: { polluted: true } } },
            ],
          },
        },
      },
    };
    // A JS object literal cannot spell a "__proto__" key: it would set the prototype instead.
    const body = JSON.stringify(admissionReview(mc)).replaceAll('"PROTO"', '"__proto__"');
    for (const path of ['/validate', '/mutate']) {
      const res = await server.post(path, body);
      t.equal(res.statusCode, 200, `${path}: a verdict, not 400`);
      t.type(res.json().response.allowed, 'boolean');
    }
    // The same decision as with any other key name: the object is read whole, the key neither refused nor lost.
    const lb = exampleObject('ako-sctp-loadbalancer.yaml', 'Service');
    const withKey = (name: string) =>
      JSON.stringify(
        admissionReview({
          ...lb,
          metadata: { ...lb.metadata, PROTO: { a: 1 } },
          spec: { ...(lb.spec as object), PROTO: {}, constructor: 1 },
        }),
      ).replaceAll('"PROTO"', name);
    const [proto, plain] = [
      await server.post('/validate', withKey('"__proto__"')),
      await server.post('/validate', withKey('"other"')),
    ];
    t.equal(proto.statusCode, 200);
    t.same(
      proto.json().response.status,
      plain.json().response.status,
      'the SCTP LoadBalancer is denied as without the key',
    );
    t.equal(proto.json().response.allowed, false);
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  },
);

t.test('/mutate answers with no patch while no mutating rule applies', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const body = admissionReview(exampleObject('openshift-sctp-service-clusterip.yaml', 'Service'));
  const res = await server.post('/mutate', JSON.stringify(body));
  t.equal(res.statusCode, 200);
  t.equal(res.json().response.allowed, true);
  t.notOk(res.json().response.patch);
});

t.test('every decision is one audit line with the documented fields and no object', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const obj = structuredClone(exampleObject('ako-sctp-loadbalancer.yaml', 'Service'));
  obj.metadata!.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{"token":"s3cr3t-t0ken"}' };
  const body = admissionReview(obj, { dryRun: true });
  await server.post('/validate', JSON.stringify(body));
  const lines = server.auditLines.filter((l) => l.audit === 'admission');
  t.equal(lines.length, 1);
  const line = lines[0]!;
  t.match(line, {
    uid: body.request.uid,
    kind: 'Service',
    namespace: 'default',
    name: 'server',
    operation: 'CREATE',
    user: 'tester',
    dryRun: true,
    decision: 'deny',
    msg: 'admission decision',
  });
  t.type(line.latencyMs, 'number');
  t.match(line.rules, [{ rule: 'sctp-service-type', decision: 'deny', message: /type LoadBalancer/ }]);
  t.notOk('object' in line || 'request' in line, 'the object is never logged');
  t.notMatch(JSON.stringify(server.auditLines), /targetPort|s3cr3t/, 'nothing of the object body leaks into the log');
});
