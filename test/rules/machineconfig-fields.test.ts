import t from 'tap';
import { evaluateRule } from '../../src/engine/engine.js';
import type { KubeObject } from '../../src/engine/types.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { ID, machineConfigFields } from '../../src/rules/machineconfig-fields.js';
import { ruleInput } from '../helpers/admission.js';
import { clusterVersion, filler, node, pool, rendered } from '../fixtures/cluster/builders.js';
import { snapshotOf } from '../fixtures/cluster/state.js';

const role = (r: string) => ({ 'machineconfiguration.openshift.io/role': r });

function mc(name: string, spec: Record<string, unknown>, labels: Record<string, string> = role('worker')): KubeObject {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name, labels },
    spec,
  };
}

interface Cluster {
  version?: string;
  arch?: string;
  os?: string;
  /** fips/kernelType/extensions of the worker pool's rendered config. */
  renderedSpec?: Record<string, unknown>;
  /** The worker pool's own MachineConfigs. */
  members?: KubeObject[];
}

/** A cluster with pools worker (3 nodes) and infra (no node), both rendered. */
function cluster(o: Cluster = {}) {
  const w = rendered('rendered-worker-1', 'worker', filler(1, 8));
  Object.assign(w.spec as object, o.renderedSpec ?? {});
  const labels = { 'kubernetes.io/arch': o.arch ?? 'amd64', 'node.openshift.io/os_id': o.os ?? 'rhcos' };
  return snapshotOf([
    w,
    rendered('rendered-infra-1', 'infra', filler(1, 8)),
    mc('00-worker', { config: { ignition: { version: '3.4.0' } } }),
    ...(o.members ?? []),
    pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-worker-1'),
    pool('infra', { 'node-role.kubernetes.io/infra': '' }, 'rendered-infra-1', 'rendered-infra-1', {
      machineCount: 0,
      updatedMachineCount: 0,
    }),
    ...[0, 1, 2].map((i) => node(`worker-${i}`, { current: 'rendered-worker-1', labels })),
    clusterVersion(o.version ?? '4.16.3'),
  ]);
}

function judge(object: KubeObject, snapshot = cluster(), oldObject: KubeObject | null = null) {
  return evaluateRule(
    machineConfigFields,
    ruleInput(object, { snapshot, oldObject, operation: oldObject ? 'UPDATE' : 'CREATE' }),
  ).findings;
}

t.test('kernelType: values the release does not have are refused with the MCO message', async (t) => {
  const [f, ...rest] = judge(mc('50-rt', { kernelType: 'rt' }));
  t.same(rest, []);
  t.match(f, {
    severity: 'violation',
    message: `[${ID}] MachineConfig 50-rt: kernelType "rt" does not exist in OpenShift 4.16: the render controller refuses the MachineConfig ("kernelType=rt is invalid") and pool worker degrades. Fix: use one of default, realtime, 64k-pages, or leave kernelType out.`,
    path: '/spec/kernelType',
  });
  t.match(
    judge(mc('50-64k', { kernelType: '64k-pages' }), cluster({ version: '4.14.8', arch: 'arm64' }))[0]?.message,
    /kernelType=64k-pages is invalid.*64k-pages exists from OpenShift 4\.15, on arm64 nodes/,
    '4.14 has no 64k-pages',
  );
  t.same(judge(mc('50-rt', { kernelType: 'realtime' })), [], 'realtime exists');
  t.same(judge(mc('50-rt', { kernelType: 'default' })), []);
  t.same(judge(mc('50-rt', { kernelType: '' })), [], 'empty is the default');
});

t.test('64k-pages: refused by the daemon on RHCOS nodes that are not arm64, accepted on arm64', async (t) => {
  const [f] = judge(mc('50-64k', { kernelType: '64k-pages' }));
  t.match(
    f?.message,
    /Pool worker has 3 amd64 node\(s\) \(worker-0, worker-1, worker-2\): the machine-config daemon refuses kernelType 64k-pages there \("64k-pages is only supported for aarch64 architecture"\)/,
  );
  t.same(judge(mc('50-64k', { kernelType: '64k-pages' }), cluster({ arch: 'arm64' })), [], 'arm64 nodes');
  t.same(
    judge(mc('50-64k', { kernelType: '64k-pages' }), cluster({ os: 'fedora' })),
    [],
    'FCOS: the daemon does not switch kernels (IsEL)',
  );
  t.same(judge(mc('50-64k', { kernelType: '64k-pages' }, role('infra'))), [], 'a pool without nodes');
  const rt = mc('60-rt', { kernelType: 'realtime' });
  t.same(
    judge(
      mc('50-64k', { kernelType: '64k-pages' }),
      cluster({ members: [rt], renderedSpec: { kernelType: 'realtime' } }),
    ),
    [],
    'another kernel type may win the merge: not known',
  );
});

t.test('extensions: names the release does not ship are refused, per release and where the MCO checks', async (t) => {
  const zsh = mc('50-ext', { config: { ignition: { version: '3.2.0' } }, extensions: ['usbguard', 'zsh'] });
  t.match(judge(zsh)[0], {
    message: `[${ID}] MachineConfig 50-ext: OpenShift 4.16 ships no extension "zsh": the MCO refuses it ("invalid extensions found: [zsh]") and pool worker degrades. Fix: remove zsh from spec.extensions; this release has wasm, ipsec, usbguard, kerberos, kernel-devel, sandboxed-containers.`,
    path: '/spec/extensions/1',
  });
  t.same(judge(mc('50-ext', { extensions: ['sysstat'] }), cluster({ version: '4.18.1' })), [], 'sysstat from 4.18');
  t.equal(judge(mc('50-ext', { extensions: ['sysstat'] }), cluster({ version: '4.17.1' })).length, 1, 'not in 4.17');
  t.equal(judge(mc('50-ext', { extensions: ['wasm'] }), cluster({ version: '4.22.0' })).length, 1, 'wasm gone in 4.22');
  t.same(judge(mc('50-ext', { extensions: ['two-node-ha'] }), cluster({ version: '4.19.0' })), []);
  // 4.18+: the controller checks only MachineConfigs with a config; the daemon only on RHCOS/SCOS nodes.
  const bare = mc('50-ext', { extensions: ['zsh'] }, role('infra'));
  t.same(
    judge(bare, cluster({ version: '4.18.1' })),
    [],
    '4.18, no config, a pool without RHCOS nodes: nothing refuses it',
  );
  t.equal(judge(bare, cluster({ version: '4.17.1' })).length, 1, '4.17: the controller refuses it anyway');
  t.equal(
    judge(mc('50-ext', { extensions: ['zsh'] }), cluster({ version: '4.18.1' })).length,
    1,
    '4.18, RHCOS nodes: the daemon refuses it',
  );
  t.same(
    judge(mc('50-ext', { extensions: ['zsh'] }), cluster({ version: '4.14.1', os: 'fedora' })),
    [],
    '4.14 on FCOS: the daemon skips the allowlist',
  );
});

t.test('kernel-devel with a realtime or 64k-pages kernel cannot be merged', async (t) => {
  const rt = mc('60-rt', { kernelType: 'realtime' });
  const snapshot = cluster({ members: [rt], renderedSpec: { kernelType: 'realtime' } });
  const [f] = judge(mc('50-devel', { extensions: ['kernel-devel'] }), snapshot);
  t.match(f, {
    message:
      /In pool worker its kernel-devel extension meets kernelType realtime: the MCO cannot merge them \("installing kernel-devel extension is not supported with kernelType: realtime"\)/,
    path: '/spec/extensions',
  });
  const devel = mc('40-devel', { extensions: ['kernel-devel'] });
  const [g] = judge(
    mc('50-rt', { kernelType: 'realtime' }),
    cluster({ members: [devel], renderedSpec: { extensions: ['kernel-devel'] } }),
  );
  t.match(g, { message: /its kernelType realtime meets kernelType realtime/, path: '/spec/kernelType' });
  t.same(judge(mc('50-devel', { extensions: ['kernel-devel'] })), [], 'default kernel');
  t.same(
    judge(
      mc('60-rt', { kernelType: 'default' }),
      cluster({ members: [rt, devel], renderedSpec: { kernelType: 'realtime', extensions: ['kernel-devel'] } }),
      rt,
    ),
    [],
    'the update that drops realtime resolves it',
  );
  t.same(
    judge(
      mc('50-devel', { extensions: ['kernel-devel'] }),
      cluster({ members: [], renderedSpec: { kernelType: 'realtime' } }),
    ),
    [],
    "the pool's MachineConfigs do not give its rendered config: silent",
  );
});

t.test('fips: a change on a running pool is refused; keeping it is not', async (t) => {
  const [f] = judge(mc('99-worker-fips', { fips: true }));
  t.match(f, {
    message:
      /This enables FIPS in pool worker, whose nodes run with FIPS off: the MCO refuses it \("detected change to FIPS flag; refusing to modify FIPS on a running cluster"\)/,
    path: '/spec/fips',
  });
  const fips = mc('99-worker-fips', { fips: true });
  const fipsCluster = cluster({ members: [fips], renderedSpec: { fips: true } });
  t.match(
    judge(mc('99-worker-fips', { fips: false }), fipsCluster, fips)[0]?.message,
    /This disables FIPS in pool worker, whose nodes run with FIPS on/,
  );
  t.same(
    judge(mc('50-other', { fips: false }), fipsCluster),
    [],
    'another MachineConfig without fips: the pool keeps it',
  );
  t.same(judge(mc('50-more', { fips: true }), fipsCluster), [], 'fips: true again is no change');
  t.same(
    judge(mc('99-infra-fips', { fips: true }, role('infra')), cluster({ version: '4.15.2' })),
    [],
    '4.15: the daemon refuses it, and the pool has no node',
  );
  t.equal(
    judge(mc('99-infra-fips', { fips: true }, role('infra'))).length,
    1,
    '4.16: the render controller refuses it, nodes or not',
  );
});

t.test('judged against the pools its labels select after the change', async (t) => {
  const moved = mc('50-rt', { kernelType: '64k-pages' }, role('infra'));
  t.same(
    judge(moved, cluster(), mc('50-rt', { kernelType: '64k-pages' })),
    [],
    'moved out of the amd64 worker pool into one without nodes',
  );
  const [f] = judge(mc('50-rt', { kernelType: '64k-pages' }), cluster(), moved);
  t.match(f?.message, /Pool worker has 3 amd64 node/, 'moved into the worker pool');
  t.same(judge(mc('50-x', { kernelType: 'rt' }, { team: 'none' })), [], 'in no pool: nothing renders it');
});

t.test('an extension finding points at the extension; an update keeping the same list is only told', async (t) => {
  const old = mc('50-ext', { extensions: ['usbguard', 'zsh', 'fish'] });
  const [f] = judge(old);
  t.match(f, { severity: 'violation', path: '/spec/extensions/1' }, 'the first extension the release lacks');
  const relabelled = { ...old, metadata: { ...old.metadata, labels: { ...old.metadata!.labels, team: 'a' } } };
  t.match(judge(relabelled, cluster(), old), [{ severity: 'advisory' }], 'the same list: an existing problem');
  const more = mc('50-ext', { extensions: ['usbguard', 'zsh', 'fish', 'kerberos'] });
  t.match(judge(more, cluster(), old), [{ severity: 'violation' }], 'a changed list is judged anew, as before');
});

t.test('silent where the cluster state does not know', async (t) => {
  const bad = mc('50-x', { kernelType: 'rt', extensions: ['zsh'], fips: true });
  t.same(judge(bad, cluster({ version: '4.13.9' })), [], 'a release whose MCO was not read');
  t.same(evaluateRule(machineConfigFields, ruleInput(bad)).findings, [], 'no cluster state');
  const own = {
    ...bad,
    metadata: { name: 'rendered-worker-2', ownerReferences: [{ kind: 'MachineConfigPool', name: 'worker' }] },
  };
  t.same(judge(own as KubeObject), [], "the render controller's own configs");
  t.same(
    judge(mc('50-k', { kernelArguments: ['nosmt', 'anything=goes'], osImageURL: 'quay.io/x/y:latest' })),
    [],
    'kernelArguments and osImageURL: not validated by the MCO',
  );
});

t.test('registered', async (t) => {
  t.ok(ALL_RULES.includes(machineConfigFields));
});
