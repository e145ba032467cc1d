import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClusterState } from '../../src/cluster/offline.js';
import { reduceMachineConfig } from '../../src/cluster/machineconfig.js';
import { reduce } from '../../src/cluster/records.js';
import { clusterVersion, filler, machineConfiguration, node, pool, rendered } from '../fixtures/cluster/builders.js';
import { snapshotOf } from '../fixtures/cluster/state.js';

function userMc(name: string, labels: Record<string, string>, spec: Record<string, unknown>) {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name, labels },
    spec,
  };
}

const role = (r: string) => ({ 'machineconfiguration.openshift.io/role': r });

function objects() {
  const workerRendered = rendered('rendered-worker-1', 'worker', filler(1, 8));
  (workerRendered.spec as Record<string, unknown>).fips = true;
  (workerRendered.spec as Record<string, unknown>).kernelType = 'realtime';
  return [
    workerRendered,
    rendered('rendered-infra-1', 'infra', filler(1, 8)),
    userMc('99-worker-fips', role('worker'), { fips: true }),
    userMc('50-rt', role('worker'), { kernelType: 'realtime', extensions: ['usbguard'] }),
    userMc('10-plain', role('worker'), { config: { ignition: { version: '3.2.0' } } }),
    userMc('60-infra-ext', role('infra'), { extensions: ['kerberos'], kernelType: '', fips: false }),
    pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-worker-1'),
    pool('infra', { 'node-role.kubernetes.io/infra': '' }, 'rendered-infra-1'),
    node('worker-0', { current: 'rendered-worker-1', labels: { 'kubernetes.io/arch': 'arm64' } }),
    clusterVersion('4.16.3'),
  ];
}

t.test('a MachineConfig keeps its merged fields only when set, and its labels only when not rendered', async (t) => {
  const plain = reduceMachineConfig(
    userMc('50-rt', role('worker'), { kernelType: 'realtime', extensions: ['usbguard', 7], fips: false }),
  );
  t.same(plain.merge, { kernelType: 'realtime', extensions: ['usbguard'] }, 'fips false and non-strings are unset');
  t.same(plain.labels, role('worker'));
  t.equal(reduceMachineConfig(userMc('10-plain', role('worker'), { kernelType: '', extensions: [] })).merge, undefined);
  const r = reduceMachineConfig({
    ...rendered('rendered-worker-1', 'worker', []),
    metadata: { ...rendered('rendered-worker-1', 'worker', []).metadata, labels: { a: 'b' } },
  });
  t.equal(r.labels, undefined, 'a rendered config is in no pool by its labels');
});

t.test('pools carry their rendered fields and the fields of their own MachineConfigs', async (t) => {
  const s = snapshotOf(objects());
  const worker = s.pools.find((p) => p.name === 'worker')!;
  const infra = s.pools.find((p) => p.name === 'infra')!;
  t.same(worker.renderedFields, { fips: true, kernelType: 'realtime' });
  t.same(worker.mergedFrom, [
    { name: '50-rt', kernelType: 'realtime', extensions: ['usbguard'] },
    { name: '99-worker-fips', fips: true },
  ]);
  t.same(infra.renderedFields, {}, 'known rendered config that sets none of them');
  t.same(infra.mergedFrom, [{ name: '60-infra-ext', extensions: ['kerberos'] }]);
  const withoutMcs = snapshotOf(objects().filter((o) => o.kind !== 'MachineConfig'));
  t.equal(withoutMcs.pools[0]!.mergedFrom, undefined, 'no MachineConfig data: unknown, not empty');
  t.equal(withoutMcs.pools[0]!.renderedFields, undefined);
});

t.test('MachineConfiguration cluster: its storage overrides, from informers and from files alike', async (t) => {
  t.same(reduce('MachineConfiguration', machineConfiguration(['Disks', 'Raid'])), {
    metadata: { name: 'cluster' },
    storageOverrides: ['Disks', 'Raid'],
  });
  t.same(reduce('MachineConfiguration', { metadata: { name: 'cluster' }, spec: {} }), {
    metadata: { name: 'cluster' },
  });
  t.same(snapshotOf([...objects(), machineConfiguration(['FileSystems'])]).irreconcilableOverrides, ['FileSystems']);
  const other = { ...machineConfiguration(['Disks']), metadata: { name: 'not-cluster' } };
  t.equal(snapshotOf([...objects(), other]).irreconcilableOverrides, undefined, 'only the object named cluster counts');

  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-mcop-'));
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects() }));
  writeFileSync(
    join(dir, 'machineconfigurations.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [machineConfiguration(['Disks'])] }),
  );
  const loaded = loadClusterState(dir);
  t.same(loaded.irreconcilableOverrides, ['Disks']);
  t.same(
    loaded.pools.find((p) => p.name === 'worker')!.mergedFrom,
    snapshotOf(objects()).pools.find((p) => p.name === 'worker')!.mergedFrom,
  );
});
