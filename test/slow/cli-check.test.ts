import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { loadClusterState } from '../../src/cluster/offline.js';
import { CLI, runCli } from '../helpers/run-cli.js';

// End to end: the built binary on the documentation manifests and on fixtures, as a CI job would run it.
const FX = 'test/fixtures/check';
const LB_DENY =
  'examples/ako-sctp-loadbalancer.yaml:37: Service default/server: sctp-service-type DENY: SCTP ports 80/SCTP of type LoadBalancer are outside ' +
  "OpenShift's documented SCTP support on bare metal, which preset openshift-baremetal enforces (MetalLB and OVN-Kubernetes do not drop SCTP " +
  'themselves: metallb/metallb#2875); allowed types: ClusterIP, NodePort. Fix: use type ClusterIP or NodePort, or add LoadBalancer to ' +
  'allowedServiceTypes in the sctp-guard policy to accept it (preset: ako when AKO 1.9.1+ carries your load balancers).';
const lines = (text: string) => text.split('\n').filter(Boolean);
const last = (text: string) => lines(text).at(-1);

t.test('the documentation manifests: a denial, a warning, and the ako preset', async (t) => {
  const [lb, lbAko, npl] = await Promise.all([
    runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml']),
    runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml', '--config', `${FX}/policies/ako.yaml`]),
    runCli(['check', '-f', 'examples/antrea-npl-sctp-service.yaml']),
  ]);
  t.equal(lb.code, 1, 'denied under the default preset');
  t.ok(lines(lb.stdout).includes(LB_DENY), lb.stdout);
  t.match(last(lb.stdout), /^2 objects checked: 1 denied, \d+ warned, \d+ passed$/);
  t.equal(lb.stderr, '');

  t.equal(lbAko.code, 0, 'preset ako allows SCTP LoadBalancers');
  t.notMatch(lbAko.stdout, /DENY/);
  t.match(last(lbAko.stdout), /^2 objects checked: 0 denied/);

  t.equal(npl.code, 0, 'a warning does not fail the check');
  t.match(
    npl.stdout,
    'examples/antrea-npl-sctp-service.yaml:9: Service default/sctp-npl: nodeportlocal-sctp WARN: it has the annotation nodeportlocal.antrea.io/enabled: "true", but Antrea NodePortLocal cannot carry SCTP',
  );
  t.equal(last(npl.stdout), '1 object checked: 0 denied, 1 warned, 0 passed');
});

t.test('every example with the example cluster state: exactly the two documented denials', async (t) => {
  const files = readdirSync('examples')
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `examples/${f}`);
  const r = await runCli(['check', ...files, '--cluster-state', 'examples/cluster-state']);
  t.equal(r.code, 1);
  t.same(
    lines(r.stdout)
      .filter((l) => l.includes(' DENY: '))
      .map((l) => l.split(' DENY: ')[0]),
    [
      'examples/ako-sctp-gateway.yaml:25: Gateway svcapi/my-gateway: sctp-gateway-listener',
      'examples/ako-sctp-loadbalancer.yaml:37: Service default/server: sctp-service-type',
    ],
  );
  t.match(last(r.stdout), /^18 objects checked: 2 denied, \d+ warned, \d+ passed$/);
});

t.test('kustomize output piped on stdin', async (t) => {
  const r = await runCli(['check', '-f', '-'], { stdin: readFileSync(`${FX}/kustomize-build.yaml`, 'utf8') });
  t.equal(r.code, 1);
  t.match(
    r.stdout,
    /^<stdin>:35: Service sctp-test\/ci-server: sctp-service-type DENY: SCTP ports 80\/SCTP of type LoadBalancer are outside/m,
  );
  t.match(last(r.stdout), /^5 objects checked: 1 denied/);
});

t.test('folders, several paths, JSON and List kinds in one run', async (t) => {
  // -f paths first, then the positional ones.
  const r = await runCli([
    'check',
    '-f',
    `${FX}/tree/a-service.yaml`,
    `${FX}/tree/sub`,
    '-f',
    `${FX}/service-list.json`,
  ]);
  t.equal(r.code, 1);
  t.same(
    lines(r.stdout)
      .filter((l) => l.includes(' DENY: '))
      .map((l) => l.split(': ').slice(0, 3).join(': ')),
    [
      `${FX}/service-list.json:9: Service json-ns/list-lb: sctp-service-type DENY`,
      `${FX}/tree/sub/b-service.yml:7: Service tree/tree-b: sctp-service-type DENY`,
      `${FX}/tree/sub/c-gateway.json:3: Gateway tree/tree-gw: sctp-gateway-listener DENY`,
    ],
  );
  t.match(last(r.stdout), /^5 objects checked: 3 denied/, 'README.txt in the folder is not read; both List items are');
});

t.test('bad input exits 2 and names each file and line on stderr; the valid objects are still checked', async (t) => {
  const r = await runCli([
    'check',
    ...[
      'networkpolicy-misindented.yaml',
      'not-kubernetes.yaml',
      'syntax-error.yaml',
      'unquoted-annotation.yaml',
      'does-not-exist.yaml',
    ].flatMap((f) => ['-f', `${FX}/${f}`]),
  ]);
  t.equal(r.code, 2);
  const [notice, ...err] = lines(r.stderr);
  t.equal(
    notice,
    `sctp-guard: notice: ${FX}/not-kubernetes.yaml:12: skipped: not a Kubernetes object (no apiVersion and kind)`,
    'Helm values in the folder: a notice, not an error',
  );
  t.equal(err.length, 4, r.stderr);
  t.equal(
    err[0],
    `sctp-guard: ${FX}/networkpolicy-misindented.yaml:8: NetworkPolicy sctp-demo-allow: "spec" is indented under metadata; it belongs at the top ` +
      'level of the object, next to metadata. kubectl rejects this (unknown field "metadata.spec"). Fix: outdent "spec:" and its block by one level',
  );
  t.match(err[1], new RegExp(`^sctp-guard: ${FX}/syntax-error.yaml:8: YAML syntax error: `));
  t.match(
    err[2],
    `sctp-guard: ${FX}/unquoted-annotation.yaml:6: Service npl: metadata.annotations["nodeportlocal.antrea.io/enabled"] is the boolean true, not a string`,
  );
  t.equal(err[3], `sctp-guard: ${FX}/does-not-exist.yaml: cannot read: ENOENT`);
  t.match(
    last(r.stdout),
    /^1 object checked: .*, 4 input errors, 1 skipped \(1 not an object\)$/,
    'the valid Service of not-kubernetes.yaml is still checked',
  );
});

t.test('bad policy, bad flags and missing cluster state exit 2 with a message', async (t) => {
  const [policy, noInput, format, state] = await Promise.all([
    runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml', '--config', `${FX}/policies/bad-service-type.yaml`]),
    runCli(['check']),
    runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml', '-o', 'xml']),
    runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml', '--cluster-state', `${FX}/no-such-dir`]),
  ]);
  t.equal(policy.code, 2);
  t.match(
    policy.stderr,
    /^sctp-guard: bad policy: test\/fixtures\/check\/policies\/bad-service-type.yaml:6: policy field \/allowedServiceTypes\/1: /,
  );
  t.equal(policy.stdout, '');
  t.equal(noInput.code, 2, 'no path: stdin is read, and an empty stdin checks nothing');
  t.match(noInput.stderr, 'sctp-guard: <stdin>: no Kubernetes objects in the input');
  t.equal(format.code, 2);
  t.match(format.stderr, /argument 'xml' is invalid. Allowed choices are text, json, junit, yaml/);
  t.equal(state.code, 2);
  t.match(state.stderr, `${FX}/no-such-dir`);
});

t.test("-o json: the documented shape, with the line of each finding's field", async (t) => {
  const r = await runCli([
    'check',
    '-f',
    'examples/ako-sctp-loadbalancer.yaml',
    '-f',
    `${FX}/syntax-error.yaml`,
    '-f',
    'examples/openshift-machineconfig-load-sctp-2.2.0.yaml',
    '-o',
    'json',
  ]);
  t.equal(r.code, 2, 'an input error wins over a denial');
  const doc = JSON.parse(r.stdout);
  t.equal(doc.apiVersion, 'sctp-guard.io/v1alpha1');
  t.equal(doc.kind, 'CheckReport');
  t.match(doc.summary, { objects: 3, denied: 1, errors: 1, reportedAtOwner: 0 });
  const svc = doc.objects.find((o: { name: string }) => o.name === 'server');
  t.match(svc, {
    file: 'examples/ako-sctp-loadbalancer.yaml',
    line: 25,
    apiVersion: 'v1',
    kind: 'Service',
    namespace: 'default',
    result: 'deny',
    patch: [],
  });
  t.match(
    svc.findings.find((f: { decision: string }) => f.decision === 'deny'),
    {
      rule: 'sctp-service-type',
      phase: 'validate',
      line: Number,
      message:
        /^\[sctp-service-type\] Service default\/server: SCTP ports 80\/SCTP of type LoadBalancer are outside OpenShift's documented SCTP support/,
    },
  );
  t.notOk('mutated' in svc);
  const mc = doc.objects.find((o: { kind: string }) => o.kind === 'MachineConfig');
  t.match(mc, { namespace: '', patch: [{ op: String, path: '/spec/config' }] });
  t.match(doc.errors, [{ file: `${FX}/syntax-error.yaml`, line: 8, message: /^YAML syntax error/ }]);
  t.match(r.stderr, `${FX}/syntax-error.yaml:8:`, 'problems are on stderr in every format');
});

t.test('--mutate -o json|yaml: only the admitted objects on stdout, denials on stderr, exit 1', async (t) => {
  const [json, yaml] = await Promise.all([
    runCli([
      'check',
      '-f',
      'examples/ako-sctp-loadbalancer.yaml',
      'examples/openshift-machineconfig-load-sctp-2.2.0.yaml',
      '-o',
      'json',
      '--mutate',
    ]),
    runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml', '-o', 'yaml', '--mutate']),
  ]);
  t.equal(json.code, 1);
  const list = JSON.parse(json.stdout);
  t.match(list, { apiVersion: 'v1', kind: 'List' });
  t.same(
    list.items.map((o: { kind: string }) => o.kind),
    ['Deployment', 'MachineConfig'],
    'the denied Service is left out',
  );
  t.equal(list.items[1].spec.config.ignition.version, '3.2.0', 'after the mutating rules');
  t.match(json.stderr, 'examples/ako-sctp-loadbalancer.yaml:');
  t.match(json.stderr, 'sctp-service-type DENY');

  t.equal(yaml.code, 1, 'the denied Service on the file: exit 1');
  t.same(
    parseAllDocuments(yaml.stdout).map((d) => d.toJS().kind),
    ['Deployment'],
    'only the allowed Deployment is printed',
  );
  t.match(yaml.stderr, 'Service default/server: sctp-service-type DENY');
});

t.test('-o junit: a suite per file, a case per object, failure for a denial, error for bad input', async (t) => {
  const r = await runCli([
    'check',
    '-f',
    'examples/ako-sctp-loadbalancer.yaml',
    'examples/antrea-npl-sctp-service.yaml',
    `${FX}/syntax-error.yaml`,
    '-o',
    'junit',
  ]);
  t.equal(r.code, 2);
  const xml = r.stdout;
  t.match(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="sctp-guard check" tests="4" failures="1" errors="1">/,
  );
  t.equal(xml.match(/<testsuite /g)?.length, 3);
  t.match(xml, /<testsuite name="examples\/ako-sctp-loadbalancer.yaml" tests="2" failures="1" errors="0"/);
  t.match(
    xml,
    /<testcase classname="examples\/ako-sctp-loadbalancer.yaml" name="Service default\/server" file="examples\/ako-sctp-loadbalancer.yaml" line="25">\n\s+<failure type="sctp-service-type" message="SCTP ports 80\/SCTP of type LoadBalancer are outside/,
  );
  t.match(
    xml,
    /name="Service default\/sctp-npl"[^]*?<system-out>WARN \[nodeportlocal-sctp\] Service default\/sctp-npl: it has the annotation nodeportlocal.antrea.io\/enabled: &quot;true&quot;|<system-out>[^<]*WARN \[nodeportlocal-sctp\] Service default\/sctp-npl: it has the annotation nodeportlocal.antrea.io\/enabled: "true"/,
  );
  t.match(
    xml,
    /<testsuite name="test\/fixtures\/check\/syntax-error.yaml" tests="1" failures="0" errors="1"[^>]*>\n\s+<testcase [^>]*name="test\/fixtures\/check\/syntax-error.yaml:8"[^>]*>\n\s+<error type="InputError" message="YAML syntax error: /,
  );
  t.equal(xml.match(/<testcase /g)?.length, 4);
  t.match(xml, /<\/testsuites>\n$/);
});

t.test('-o yaml: the objects as kubectl would send them; --mutate: after the mutating rules', async (t) => {
  const [plain, mutated, withState] = await Promise.all([
    runCli([
      'check',
      '-f',
      `${FX}/yaml-edge-cases.yaml`,
      'examples/openshift-machineconfig-load-sctp-2.2.0.yaml',
      '-o',
      'yaml',
    ]),
    runCli(['check', '-f', 'examples/openshift-machineconfig-load-sctp-2.2.0.yaml', '-o', 'yaml', '--mutate']),
    runCli([
      'check',
      '-f',
      'examples/openshift-machineconfig-load-sctp-2.2.0.yaml',
      '-o',
      'yaml',
      '--mutate',
      '--cluster-state',
      'examples/cluster-state',
    ]),
  ]);
  t.equal(plain.code, 1);
  const docs = parseAllDocuments(plain.stdout).map((d) => d.toJS());
  t.same(
    docs.map((d) => d.metadata.name),
    ['99-octal-mode', 'load-sctp-module'],
    'the denied Service lb-sctp is left out',
  );
  t.equal(docs[0].spec.config.storage.files[0].mode, 420, 'the YAML 1.1 octal 0644 comes out as 420');
  t.equal(docs[1].spec.config.ignition.version, '2.2.0', 'without --mutate the object is as written');
  t.notMatch(plain.stdout, /[&*]a\d/, 'no anchors or aliases in the output');
  t.match(
    plain.stderr,
    `${FX}/yaml-edge-cases.yaml:14: Service edge/lb-sctp: sctp-service-type DENY`,
    'findings go to stderr',
  );

  t.equal(mutated.code, 0);
  const mc = parseAllDocuments(mutated.stdout).map((d) => d.toJS())[0];
  t.equal(mc.spec.config.ignition.version, '3.2.0', 'translated to the default target version');
  t.equal(mc.metadata.annotations['sctp-guard.io/ignition-translated-from'], '2.2.0');
  t.notOk(
    mc.spec.config.storage.files.some((f: Record<string, unknown>) => 'filesystem' in f),
    '2.x filesystem field gone',
  );
  t.match(
    mutated.stderr,
    /MachineConfig load-sctp-module: ignition-spec-version MUTATE: spec.config: Ignition 2.2.0 → 3.\d.0 \(rewritten: storage.files\); metadata.annotations added/,
  );

  const rendered = loadClusterState('examples/cluster-state').renderedIgnitionVersion;
  t.not(rendered, '3.2.0', 'the example cluster renders another version than the default');
  t.equal(
    parseAllDocuments(withState.stdout).map((d) => d.toJS())[0].spec.config.ignition.version,
    rendered,
    '--cluster-state sets the target version',
  );
});

t.test('stdin of any size from a real pipe: a producer that writes 1.5 MB slowly', async (t) => {
  // A child process writes the render in pieces with pauses, as `kubectl kustomize` does on a large overlay: stdin
  // is then a pipe that is not ready when check starts (readFileSync(0) failed on it with EAGAIN).
  const producer = [
    "const doc = (i) => `apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c${i}, namespace: ns}\\ndata: {pad: '${'x'.repeat(1400)}'}\\n---\\n`;",
    "let i = 0; const t = setInterval(() => { let s = ''; for (let j = 0; j < 100; j++) s += doc(i++); process.stdout.write(s);",
    "if (i >= 1000) { clearInterval(t); process.stdout.write('apiVersion: v1\\nkind: Service\\nmetadata: {name: lb, namespace: ns}\\nspec:\\n  type: LoadBalancer\\n  ports: [{port: 80, protocol: SCTP}]\\n'); } }, 50);",
  ].join(' ');
  const child = spawn('sh', ['-c', `"$1" -e "$2" | "$1" "$3" check --summary`, 'sh', process.execPath, producer, CLI], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 1, stderr);
  t.equal(stdout, '1001 objects checked: 1 denied, 0 warned, 1000 passed\n');
});

t.test('150,000 documents in one file: read without recursion or spread in proportion to the input', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-many-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'many.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n'.repeat(150_000));
  const r = await runCli(['check', join(dir, 'many.yaml'), '--summary'], { timeoutMs: 300_000 });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '150000 objects checked: 0 denied, 0 warned, 150000 passed\n');
});
