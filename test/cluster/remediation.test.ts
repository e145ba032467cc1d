import t from 'tap';
import { freeName, labelsFor, loadSctpConfig, maxUnavailable, planRemediation } from '../../src/cluster/remediation.js';
import { analyzeSctp } from '../../src/cluster/machineconfig.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { SPEC_VERSIONS } from '../../src/ignition/versions.js';
import { filler, node, pool, rendered, scenario } from '../fixtures/cluster/builders.js';
import { snapshotOf } from '../fixtures/cluster/state.js';

const policy = defaultPolicy();

t.test(
  'the scenario: a fix per pool whose nodes lack SCTP, none for pools that carry it or roll out to it',
  async (t) => {
    const s = scenario();
    const plan = planRemediation(
      snapshotOf([...s.nodes, ...s.machineConfigs, ...s.pools, ...s.clusterVersions]),
      policy,
    );
    const byPool = Object.fromEntries(plan.pools.map((p) => [p.pool, p]));
    t.same(Object.keys(byPool).sort(), ['legacy', 'master', 'rollout']);
    t.equal(byPool.rollout!.action, 'wait', 'mid-rollout to a config that loads sctp');
    t.equal(byPool.master!.action, 'apply');
    t.equal(byPool.legacy!.action, 'apply', 'loads sctp but keeps the blacklist');
    t.match(byPool.legacy!.lacking[0]!.reason, /keeps the RHCOS \/etc\/modprobe\.d\/sctp-blacklist\.conf/);
    t.same(plan.readyPools, ['edge', 'worker']);
    for (const p of [byPool.master!, byPool.legacy!]) {
      t.same(p.machineConfig!.metadata.labels, { 'machineconfiguration.openshift.io/role': p.pool });
      t.equal(p.ignitionVersion, '3.2.0', "the version of the pool's rendered config");
    }
  },
);

t.test(
  "the config carries SCTP in every version the MCO renders, by the webhook's own reading of a config",
  async (t) => {
    for (const v of SPEC_VERSIONS) {
      const config = loadSctpConfig(v);
      t.equal((config.ignition as { version: string }).version, v);
      t.equal(analyzeSctp(config, [], 'fix').carries, true, v);
    }
  },
);

t.test("the version follows each pool's rendered config; 2.2.0 clusters get the 2.2.0 form", async (t) => {
  const objects = [
    rendered('rendered-master-1', 'master', filler(1, 8), '2.2.0'),
    pool('master', { 'node-role.kubernetes.io/master': '' }, 'rendered-master-1'),
    node('m0', { roles: ['master'], current: 'rendered-master-1' }),
  ];
  const [fix] = planRemediation(snapshotOf(objects), policy).pools;
  t.equal(fix!.ignitionVersion, '2.2.0');
  const files = (fix!.machineConfig!.spec.config.storage as { files: Array<Record<string, unknown>> }).files;
  t.ok(
    files.every((f) => f.filesystem === 'root'),
    '2.x files name their filesystem',
  );
});

t.test('names never collide with an existing MachineConfig', async (t) => {
  t.equal(freeName('worker', new Set()), 'load-sctp-module', "the docs' name for worker");
  t.equal(freeName('worker', new Set(['load-sctp-module'])), 'load-sctp-module-worker');
  t.equal(freeName('edge', new Set(['load-sctp-module-edge', 'load-sctp-module-edge-2'])), 'load-sctp-module-edge-3');
  const objects = [
    rendered('rendered-master-1', 'master', filler(1, 8)),
    {
      ...rendered('load-sctp-module-master', 'x', []),
      metadata: { name: 'load-sctp-module-master', labels: { 'machineconfiguration.openshift.io/role': 'other' } },
    },
    pool('master', { 'node-role.kubernetes.io/master': '' }, 'rendered-master-1'),
    node('m0', { roles: ['master'], current: 'rendered-master-1' }),
  ];
  t.equal(
    planRemediation(snapshotOf(objects), policy).pools[0]!.machineConfig!.metadata.name,
    'load-sctp-module-master-2',
  );
});

t.test('labels from the machineConfigSelector', async (t) => {
  const role = 'machineconfiguration.openshift.io/role';
  t.same(
    labelsFor({ matchExpressions: [{ key: role, operator: 'In', values: ['worker', 'infra'] }] }, 'infra'),
    { labels: { [role]: 'infra' } },
    "the pool's own role, not worker",
  );
  t.same(labelsFor({ matchExpressions: [{ key: role, operator: 'In', values: ['worker', 'edge-x'] }] }, 'edge'), {
    labels: { [role]: 'edge-x' },
  });
  t.same(
    labelsFor(
      {
        matchLabels: { a: 'b' },
        matchExpressions: [
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'NotIn', values: ['e'] },
        ],
      },
      'p',
    ),
    { labels: { a: 'b', c: 'p' } },
  );
  t.match(labelsFor({}, 'p'), { problem: /every MachineConfig/ });
  t.match(labelsFor(undefined, 'p'), { problem: /no spec\.machineConfigSelector/ });
  t.match(
    labelsFor({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] }, 'p'),
    { problem: /no set of labels/ },
  );
});

t.test('a worker fix says which custom pools roll out with it', async (t) => {
  const infra = pool('infra', { 'node-role.kubernetes.io/infra': '' }, 'rendered-infra-1');
  (infra.spec as any).machineConfigSelector = {
    matchExpressions: [{ key: 'machineconfiguration.openshift.io/role', operator: 'In', values: ['worker', 'infra'] }],
  };
  const objects = [
    rendered('rendered-worker-1', 'worker', filler(1, 8)),
    rendered('rendered-infra-1', 'infra', filler(1, 8)),
    pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-worker-1'),
    infra,
    node('w0', { roles: ['worker'], current: 'rendered-worker-1' }),
    node('i0', { roles: ['worker', 'infra'], current: 'rendered-infra-1' }),
  ];
  const plan = planRemediation(snapshotOf(objects), policy);
  const worker = plan.pools.find((p) => p.pool === 'worker')!;
  t.same(worker.alsoSelects, ['infra']);
  t.equal(
    plan.pools.find((p) => p.pool === 'infra')!.machineConfig!.metadata.labels[
      'machineconfiguration.openshift.io/role'
    ],
    'infra',
  );
});

t.test('maxUnavailable as the MCO computes it', async (t) => {
  t.equal(maxUnavailable(undefined, 10), 1);
  t.equal(maxUnavailable(3, 10), 3);
  t.equal(maxUnavailable('25%', 10), 2, 'rounded down');
  t.equal(maxUnavailable('5%', 10), 1, 'never 0');
  t.equal(maxUnavailable('2', 10), 2);
});

t.test('no cluster state: nothing to plan, and the reason', async (t) => {
  const plan = planRemediation({ ...snapshotOf([]), source: 'none' }, policy);
  t.match(plan.unusable, /no cluster state/);
});

t.test('NFD label namespaces nfd-master refuses are called out', async (t) => {
  const snapshot = snapshotOf([node('n1')]);
  const plan = (key: string) => planRemediation(snapshot, { ...policy, sctpNodeLabel: { key } }).nodeLabel!;
  t.equal(plan('feature.node.kubernetes.io/sctp').labelProblem, undefined);
  t.equal(plan('sctp.feature.node.kubernetes.io/loaded').labelProblem, undefined);
  t.equal(plan('example.com/sctp').labelProblem, undefined);
  t.match(plan('node-role.kubernetes.io/sctp').labelProblem, /extraLabelNs/);
  t.match(plan('sctp').labelProblem, /feature\.node\.kubernetes\.io\/sctp/);
  t.same(plan('example.com/sctp').label, { key: 'example.com/sctp', value: 'true' }, 'a key-only label gets "true"');
});
