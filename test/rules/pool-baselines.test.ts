import t from 'tap';
import { Engine } from '../../src/engine/engine.js';
import type { KubeObject } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { clusterVersion, filler, machineConfiguration, node, pool, rendered } from '../fixtures/cluster/builders.js';
import { snapshotOf } from '../fixtures/cluster/state.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from '../../src/cluster/snapshot.js';

// The OpenShift docs' 98-var-partition (a separate /var), as Butane writes it.
const DISK = {
  device: '/dev/disk/by-id/wwn-0x5000c500a0b1c2d3',
  partitions: [{ label: 'var', number: 5, sizeMiB: 0, startMiB: 25000 }],
};
const FS = {
  device: '/dev/disk/by-partlabel/var',
  format: 'xfs',
  mountOptions: ['defaults', 'prjquota'],
  path: '/var',
};

function varPartition(labels: Record<string, string>, disk = DISK): KubeObject {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name: '98-var-partition', labels },
    spec: { config: { ignition: { version: '3.4.0' }, storage: { disks: [disk], filesystems: [FS] } } },
  };
}

const role = (r: string) => ({ 'machineconfiguration.openshift.io/role': r });

/** worker renders the /var partition; infra does not. */
function cluster(version = '4.16.3', extra: Array<ReturnType<typeof machineConfiguration>> = []): ClusterSnapshot {
  const w = rendered('rendered-worker-1', 'worker', filler(1, 8), '3.4.0');
  Object.assign((w.spec as { config: object }).config, {
    storage: { files: filler(1, 8), disks: [DISK], filesystems: [FS] },
  });
  return snapshotOf([
    w,
    rendered('rendered-infra-1', 'infra', filler(1, 8), '3.4.0'),
    pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-worker-1'),
    pool('infra', { 'node-role.kubernetes.io/infra': '' }, 'rendered-infra-1'),
    node('worker-0', { current: 'rendered-worker-1' }),
    node('infra-0', { roles: ['infra'], current: 'rendered-infra-1' }),
    clusterVersion(version),
    ...extra,
  ]);
}

const engine = new Engine(ALL_RULES, defaultPolicy());
const MC = { group: 'machineconfiguration.openshift.io', version: 'v1', kind: 'MachineConfig' };

function decide(object: KubeObject, oldObject: KubeObject | null, snapshot: ClusterSnapshot) {
  return engine.evaluate(
    { object, oldObject, operation: oldObject ? 'UPDATE' : 'CREATE', gvk: MC, namespace: '', dryRun: false },
    snapshot,
    'mutate',
  );
}

t.test('an UPDATE is judged against the pools the config lands in after it', async (t) => {
  const inWorker = varPartition(role('worker'));
  const inInfra = varPartition(role('infra'));
  t.equal(decide(inWorker, inWorker, cluster()).allowed, true, 'unchanged in worker, which renders it');
  t.equal(
    decide({ ...inWorker, metadata: { ...inWorker.metadata, annotations: { a: 'b' } } }, inWorker, cluster()).allowed,
    true,
  );
  const moved = decide(inInfra, inWorker, cluster());
  t.equal(moved.allowed, false, 'moved into infra by a label edit: new there, as a new entry would be');
  t.match(
    moved.message,
    /spec\.config\.storage\.disks changes what the nodes run \(not in pool infra's rendered config \(rendered-infra-1\)\).*"ignition disks section contains changes"/,
  );
  t.equal(decide(inWorker, inInfra, cluster()).allowed, true, 'moved from infra into worker, which renders it already');
  t.equal(decide(inInfra, inInfra, cluster()).allowed, true, 'kept in infra: its own past counts there');
});

t.test('a CREATE in several pools keeps only what every one of them renders', async (t) => {
  const both = cluster('4.16.3');
  const custom = {
    ...both,
    pools: both.pools.map((p) => ({ ...p, machineConfigSelector: { matchLabels: { shared: 'yes' } } })),
  };
  t.equal(decide(varPartition({ shared: 'yes' }), null, custom).allowed, false, 'infra does not render the disk');
  t.equal(decide(varPartition(role('worker')), null, cluster()).allowed, true, 'worker alone does');
});

t.test("MachineConfiguration cluster's irreconcilableValidationOverrides open the sections it names", async (t) => {
  const other = varPartition(role('worker'), { ...DISK, device: '/dev/sdb' });
  t.equal(decide(other, null, cluster('4.20.1')).allowed, false, 'no overrides: a new disk is refused');
  const open = cluster('4.20.1', [machineConfiguration(['Disks', 'FileSystems'])]);
  t.equal(decide(other, null, open).allowed, true, 'Disks overridden: the MCO applies it to new nodes only');
  t.equal(decide(varPartition(role('infra')), null, open).allowed, true, 'disks and filesystems both overridden');
  t.equal(
    decide(varPartition(role('infra')), null, cluster('4.20.1', [machineConfiguration(['Disks'])])).allowed,
    false,
    'filesystems still compared',
  );
  t.equal(
    decide(other, null, cluster('4.19.2', [machineConfiguration(['Disks'])])).allowed,
    false,
    '4.19 has no such field: no override',
  );
});

t.test('without cluster state an UPDATE may keep what it carried', async (t) => {
  const inWorker = varPartition(role('worker'));
  t.equal(decide(varPartition(role('infra')), inWorker, EMPTY_SNAPSHOT).allowed, true, 'the pools are not known');
  t.equal(decide(inWorker, null, EMPTY_SNAPSHOT).allowed, false, 'a CREATE with disks is refused as before');
});
