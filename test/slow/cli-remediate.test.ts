import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { formatYamlStream } from '../../src/cli/output/yaml.js';
import { clusterWideAssessment } from '../../src/cluster/assess.js';
import { loadClusterState } from '../../src/cluster/offline.js';
import { reduceLabelSelector } from '../../src/cluster/records.js';
import { matchesLabelSelector } from '../../src/cluster/selectors.js';
import type { KubeObject } from '../../src/engine/types.js';
import { node } from '../fixtures/cluster/builders.js';
import type { ResourceType } from '../helpers/fake-apiserver.js';
import { runCli } from '../helpers/run-cli.js';
import { readStateDir, simulateRollout } from '../helpers/rollout.js';

const STATE = 'examples/cluster-state';
const WORKLOADS = [
  'test/fixtures/remediate/sctp-on-every-node.yaml',
  'examples/openshift-sctp-pod.yaml',
  'examples/openshift-sctp-verify.yaml',
  'examples/openshift-sctp-service-clusterip.yaml',
  'examples/openshift-sctp-service-default-type.yaml',
  'examples/networkpolicy-sctp.yaml',
];
const yamlObjects = (text: string) =>
  parseAllDocuments(text, { version: '1.1' })
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => o !== null);
const tmp = () => mkdtempSync(join(tmpdir(), 'sctp-guard-remediate-'));

interface CheckJson {
  summary: { denied: number; warned: number; passed: number; errors: number };
  objects: Array<{ kind: string; name: string; result: string; findings: Array<{ rule: string; message: string }> }>;
}

t.test(
  'examples/cluster-state: a MachineConfig for each pool without SCTP, in the version that pool renders',
  async (t) => {
    const r = await runCli(['remediate', '--cluster-state', STATE, '-o', 'yaml']);
    t.equal(r.code, 0, r.stderr);
    const objects = yamlObjects(r.stdout);
    t.ok(
      objects.every((o) => o.kind === 'MachineConfig'),
      'stdout holds only the objects to apply',
    );
    const raw = readStateDir(STATE);
    const existing = new Set(raw.filter((o) => o.kind === 'MachineConfig').map((o) => o.metadata.name));
    // The pools the webhook's own assessment finds without SCTP and not already rolling out a config that has it.
    const { all } = clusterWideAssessment(loadClusterState(STATE), { sctpNodeLabel: null });
    const broken = new Set(
      all.lacking.filter((g) => g.pool && !(g.state === 'pending' && g.desiredCarriesSctp)).map((g) => g.pool!),
    );
    t.same([...broken], ['master'], 'the example has one pool without SCTP');
    for (const poolName of broken) {
      const pool = raw.find((o) => o.kind === 'MachineConfigPool' && o.metadata.name === poolName)!;
      const selector = reduceLabelSelector((pool.spec as any).machineConfigSelector)!;
      const mcs = objects.filter((o) =>
        matchesLabelSelector((o.metadata?.labels ?? {}) as Record<string, string>, selector),
      );
      t.equal(mcs.length, 1, `one MachineConfig is selected by pool ${poolName}`);
      const renderedName = (pool.status as any).configuration.name;
      const rendered = raw.find((o) => o.metadata.name === renderedName)!;
      t.equal(
        (mcs[0]!.spec as any).config.ignition.version,
        (rendered.spec as any).config.ignition.version,
        "in the version of the pool's rendered config",
      );
      t.notOk(existing.has(mcs[0]!.metadata!.name!), 'a name no MachineConfig has');
    }
    t.equal(objects.length, broken.size, 'none for the pools that carry SCTP or are rolling out to it');
    t.match(r.stderr, /Pool master: 3 of 3 nodes do not carry SCTP/);
    t.match(r.stderr, /keeps the RHCOS \/etc\/modprobe\.d\/sctp-blacklist\.conf/, 'says why, from the node assessment');
    t.match(r.stderr, /1 at a time \(maxUnavailable 1, 3 rounds\)/);
    t.match(r.stderr, /oc get machineconfigpool master -w/);
    t.match(r.stderr, /Pool infra: .*rolling out a rendered config that loads sctp/s);
  },
);

t.test('the default text output explains and shows the objects', async (t) => {
  const r = await runCli(['remediate', '--cluster-state', STATE]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  t.match(
    r.stdout,
    /Fix: MachineConfig load-sctp-module-master .*Ignition 3\.4\.0 \(the version of rendered-master-3b9\), label machineconfiguration\.openshift\.io\/role: master/,
  );
  t.match(r.stdout, /Apply: sctp-guard remediate --cluster-state examples\/cluster-state -o yaml \| oc apply -f -/);
  t.match(r.stdout, /# MachineConfig load-sctp-module-master\napiVersion: machineconfiguration\.openshift\.io\/v1/);
});

t.test('the simulated rollout of its output passes every rule in check', async (t) => {
  const before = await runCli(['check', '--cluster-state', STATE, '-o', 'json', ...WORKLOADS]);
  t.equal(before.code, 1, 'before: the SCTP pod on the masters is denied (the test can fail)');
  t.match(before.stdout, /sctp-on-masters/);

  const r = await runCli(['remediate', '--cluster-state', STATE, '-o', 'yaml']);
  const dir = tmp();
  const fixes = join(dir, 'fixes.yaml');
  writeFileSync(fixes, r.stdout);
  simulateRollout(STATE, yamlObjects(r.stdout), join(dir, 'state'));
  const after = await runCli(['check', '--cluster-state', join(dir, 'state'), '-o', 'json', fixes, ...WORKLOADS]);
  t.equal(after.code, 0, after.stdout + after.stderr);
  const report = JSON.parse(after.stdout) as CheckJson;
  t.same(report.summary.errors, 0);
  for (const o of report.objects) t.same(o.findings, [], `${o.kind} ${o.name}: no rule has anything to say`);
  t.ok(
    report.objects.some((o) => o.kind === 'MachineConfig'),
    'the MachineConfig itself was checked (ignition-spec-version)',
  );
  t.ok(report.objects.some((o) => o.name === 'sctp-on-masters'));

  const again = await runCli(['remediate', '--cluster-state', join(dir, 'state'), '-o', 'yaml']);
  t.equal(again.stdout, '', 'after the rollout there is nothing left to apply');
  t.match(again.stderr, /Every node carries SCTP/);
});

t.test(
  'without the MCO: a NodeFeatureRule for the label, the module-loading step, then check passes once NFD labels the nodes',
  async (t) => {
    const dir = tmp();
    const nodes = [node('n1', { roles: ['worker'] }), node('n2', { roles: ['worker'] })];
    writeFileSync(join(dir, 'nodes.yaml'), formatYamlStream(nodes as KubeObject[]));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'sctpNodeLabel: {key: example.com/sctp, value: "yes"}\n');

    const r = await runCli(['remediate', '--cluster-state', dir, '--config', policy, '-o', 'yaml']);
    t.equal(r.code, 0, r.stderr);
    const [rule, ...rest] = yamlObjects(r.stdout);
    t.same(rest, []);
    t.equal(rule!.apiVersion, 'nfd.k8s-sigs.io/v1alpha1');
    t.equal(rule!.kind, 'NodeFeatureRule');
    t.same((rule as any).spec.rules[0].labels, { 'example.com/sctp': 'yes' }, 'the label sctpNodeLabel expects');
    t.same((rule as any).spec.rules[0].matchFeatures, [
      { feature: 'kernel.loadedmodule', matchExpressions: { sctp: { op: 'Exists' } } },
    ]);
    t.match(r.stderr, /echo sctp > \/etc\/modules-load\.d\/sctp\.conf/);
    t.match(r.stderr, /modprobe sctp/);
    t.match(r.stderr, /2 nodes lack the label example\.com\/sctp=yes/);

    const workloads = ['examples/openshift-sctp-pod.yaml', 'examples/openshift-sctp-service-clusterip.yaml'];
    const before = await runCli(['check', '--cluster-state', dir, '--config', policy, ...workloads]);
    t.equal(before.code, 1, 'before: no node has the label, SCTP is denied');
    // NFD's part of the rollout: nfd-master sets the rule's labels on the nodes where sctp is loaded.
    const labelled = nodes.map((n) => ({
      ...n,
      metadata: { ...n.metadata, labels: { ...(n.metadata.labels as object), ...(rule as any).spec.rules[0].labels } },
    }));
    writeFileSync(join(dir, 'nodes.yaml'), formatYamlStream(labelled as KubeObject[]));
    const after = await runCli(['check', '--cluster-state', dir, '--config', policy, '-o', 'json', ...workloads]);
    t.equal(after.code, 0, after.stdout);
    for (const o of (JSON.parse(after.stdout) as CheckJson).objects) t.same(o.findings, [], `${o.kind} ${o.name}`);
  },
);

t.test("without a label in the policy: NFD's own namespace is proposed and the policy line printed", async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'nodes.yaml'), formatYamlStream([node('n1')] as KubeObject[]));
  const r = await runCli(['remediate', '--cluster-state', dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /"feature\.node\.kubernetes\.io\/sctp": "true"|feature\.node\.kubernetes\.io\/sctp: "true"/);
  t.match(r.stdout, /sctpNodeLabel: \{key: feature\.node\.kubernetes\.io\/sctp, value: "true"\}/);
});

t.test('bad input: exit 2 with one line', async (t) => {
  const r = await runCli(['remediate', '--cluster-state', 'no/such/dir']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^sctp-guard: .*no\/such\/dir/);
  const both = await runCli(['remediate', '--cluster-state', STATE, '--kubeconfig', 'x']);
  t.equal(both.code, 2, 'offline and live together are refused');
});

t.test('live: --kubeconfig and --context read the same state from the API server and print the same fix', async (t) => {
  const { CORE_TYPES, FakeApiServer, OPENSHIFT_TYPES } = await import('../helpers/fake-apiserver.js');
  const { readManifests } = await import('../../src/input/manifests.js');
  const api = new FakeApiServer({ types: [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES)] });
  await api.start();
  t.teardown(() => api.stop());
  const typeOf = {
    Node: CORE_TYPES.nodes,
    MachineConfig: OPENSHIFT_TYPES.machineconfigs,
    MachineConfigPool: OPENSHIFT_TYPES.machineconfigpools,
    ClusterVersion: OPENSHIFT_TYPES.clusterversions,
  } as Record<string, ResourceType>;
  for (const { object } of (await readManifests([STATE])).objects) api.upsert(typeOf[object.kind!]!, object as never);
  const kubeconfig = api.writeKubeconfig(tmp());
  const offline = await runCli(['remediate', '--cluster-state', STATE, '-o', 'yaml']);
  const live = await runCli(['remediate', '--kubeconfig', kubeconfig, '--context', 'fake', '-o', 'yaml']);
  t.equal(live.code, 0, live.stderr);
  t.equal(live.stdout, offline.stdout, 'the same MachineConfig as from the saved state');
  t.match(live.stderr, /Apply: sctp-guard remediate --kubeconfig .* --context fake -o yaml \| oc apply -f -/);
  const bad = await runCli(['remediate', '--kubeconfig', kubeconfig, '--context', 'nope']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /kubeconfig .*: context "nope" is not in it/);
});

t.test(
  '--pool (repeatable) limits the output to the pools asked for; an unknown pool is exit 2 naming the known ones',
  async (t) => {
    const master = await runCli(['remediate', '--cluster-state', STATE, '--pool', 'master', '-o', 'yaml']);
    t.equal(master.code, 0, master.stderr);
    t.same(
      yamlObjects(master.stdout).map((o) => o.metadata?.name),
      ['load-sctp-module-master'],
    );
    t.notMatch(master.stderr, /Pool infra|Pool worker/, 'nothing about the other pools');
    t.match(
      master.stderr,
      /Apply: sctp-guard remediate --cluster-state examples\/cluster-state --pool master -o yaml \| oc apply -f -/,
    );
    const infra = await runCli(['remediate', '--cluster-state', STATE, '--pool', 'infra', '--pool', 'worker']);
    t.equal(infra.code, 0, infra.stderr);
    t.match(infra.stdout, /Pool infra: .*rolling out/s);
    t.match(infra.stdout, /Pools whose nodes carry SCTP: worker\./);
    t.notMatch(infra.stdout, /Pool master|MachineConfig load-sctp-module/, 'no MachineConfig for a pool not asked for');
    const unknown = await runCli(['remediate', '--cluster-state', STATE, '--pool', 'master', '--pool', 'edge']);
    t.equal(unknown.code, 2);
    t.equal(
      unknown.stderr,
      "sctp-guard: remediate: --pool edge: no such MachineConfigPool; the cluster's pools: infra, master, worker\n",
    );
    t.equal(unknown.stdout, '');
  },
);
