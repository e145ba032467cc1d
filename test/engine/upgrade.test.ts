import t from 'tap';
import { join } from 'node:path';
import { loadClusterState } from '../../src/cluster/offline.js';
import { Engine } from '../../src/engine/engine.js';
import type { KubeObject } from '../../src/engine/types.js';
import {
  judgeMachineConfig,
  judgePool,
  snapshotAt,
  upgradePolicy,
  type Fate,
  type ReleaseJudgement,
} from '../../src/engine/upgrade.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { EXAMPLES_DIR, exampleObject } from '../helpers/admission.js';

const snapshot = loadClusterState(join(EXAMPLES_DIR, 'cluster-state'));
const engine = new Engine(ALL_RULES, upgradePolicy({ ...defaultPolicy(), ignition: { targetVersion: '3.2.0' } }));

const mc = (name: string, config: object): KubeObject => ({
  apiVersion: 'machineconfiguration.openshift.io/v1',
  kind: 'MachineConfig',
  metadata: { name, labels: { 'machineconfiguration.openshift.io/role': 'worker' } },
  spec: { config },
});
const file = (mode: number) => ({ path: '/etc/example.conf', mode, overwrite: true, contents: { source: 'data:,x' } });

/**
 * Each row: a MachineConfig, a release, what that release's MCO does with it, and the upstream function that decides
 * (openshift/machine-config-operator, the release branch named).
 */
const ROWS: Array<{ object: KubeObject; release: string; fate: Fate; reason: RegExp; upstream: string }> = [
  {
    object: exampleObject('openshift-machineconfig-load-sctp-2.2.0.yaml', 'MachineConfig'),
    release: '4.15',
    fate: 'translated',
    reason: /translates Ignition 2\.2\.0 to 3\.4\.0/,
    upstream:
      'release-4.15 pkg/controller/common/helpers.go IgnParseWrapper: ign3_4.ParseCompatibleVersion answers ErrUnknownVersion, ign2 (v2_2) Parse, then convertIgnition22to34',
  },
  {
    object: exampleObject('openshift-machineconfig-load-sctp-3.2.0.yaml', 'MachineConfig'),
    release: '4.19',
    fate: 'translated',
    reason: /translates Ignition 3\.2\.0 to 3\.5\.0/,
    upstream:
      'release-4.19 helpers.go IgnParseWrapper: ign3_5.ParseCompatibleVersion reads 3.2 and translates it up to 3.5',
  },
  {
    object: mc('in-3.4', { ignition: { version: '3.4.0' } }),
    release: '4.18',
    fate: 'as-is',
    reason: /read as is: Ignition 3\.4\.0/,
    upstream: 'release-4.18 helpers.go IgnParseWrapper: ign3_4.ParseCompatibleVersion',
  },
  {
    object: mc('in-3.5', { ignition: { version: '3.5.0' } }),
    release: '4.18',
    fate: 'refused',
    reason:
      /parses Ignition up to 3\.4\.0 and refuses 3\.5\.0 \("parsing Ignition config failed: unknown version\. Supported spec versions: 2\.2, 3\.0, 3\.1, 3\.2, 3\.3, 3\.4"\)/,
    upstream:
      'release-4.18 helpers.go IgnParseWrapper: ign3_4.ParseCompatibleVersion answers ErrUnknownVersion for 3.5.0, and ign2 Parse does too',
  },
  {
    object: mc('in-3.5', { ignition: { version: '3.5.0' } }),
    release: '4.19',
    fate: 'as-is',
    reason: /read as is: Ignition 3\.5\.0/,
    upstream: 'release-4.19 helpers.go IgnParseWrapper: ign3_5.ParseCompatibleVersion',
  },
  {
    object: mc('sticky', { ignition: { version: '3.2.0' }, storage: { files: [file(0o1644)] } }),
    release: '4.16',
    fate: 'refused',
    reason: /0777/,
    upstream: 'release-4.16 helpers.go ValidateIgnition → validateIgn3FileModes: "invalid mode …, cannot exceed 0777"',
  },
  {
    object: {
      ...mc('wasm', { ignition: { version: '3.5.0' } }),
      spec: { config: { ignition: { version: '3.5.0' } }, extensions: ['wasm'] },
    },
    release: '4.21',
    fate: 'as-is',
    reason: /read as is/,
    upstream: 'release-4.21 helpers.go ValidateMachineConfig → validateExtensions: wasm is in SupportedExtensions',
  },
  {
    object: {
      ...mc('wasm', { ignition: { version: '3.5.0' } }),
      spec: { config: { ignition: { version: '3.5.0' } }, extensions: ['wasm'] },
    },
    release: '4.22',
    fate: 'refused',
    reason: /invalid extensions found: \[wasm\]/,
    upstream:
      'release-4.22 helpers.go ValidateMachineConfig → validateExtensions: wasm is no longer in SupportedExtensions',
  },
  {
    object: {
      ...mc('64k', { ignition: { version: '3.4.0' } }),
      spec: { config: { ignition: { version: '3.4.0' } }, kernelType: '64k-pages' },
    },
    release: '4.14',
    fate: 'refused',
    reason: /kernelType=64k-pages is invalid/,
    upstream: 'release-4.14 helpers.go ValidateMachineConfig: kernelType is default or realtime',
  },
];

for (const row of ROWS) {
  t.test(`${row.object.metadata?.name} at ${row.release}: ${row.fate} (${row.upstream})`, async (t) => {
    const judged: ReleaseJudgement = judgeMachineConfig(engine, snapshot, row.object, row.release);
    t.equal(judged.fate, row.fate, judged.reason);
    t.match(judged.reason, row.reason);
  });
}

t.test(
  'the pool after a re-render: the merged configs still load sctp, or the render fails on a refused one',
  async (t) => {
    const worker = snapshot.pools.find((p) => p.name === 'worker')!;
    const load = exampleObject('openshift-machineconfig-load-sctp-3.2.0.yaml', 'MachineConfig');
    const ok = judgePool(
      worker,
      [load],
      new Map([['load-sctp-module', judgeMachineConfig(engine, snapshot, load, '4.19')]]),
      '4.19',
      '4.18',
    );
    t.match(ok, { refused: [], before: { carries: true }, after: { carries: true } });
    const bad = mc('in-3.5', { ignition: { version: '3.5.0' } });
    const judgements = new Map([
      ['load-sctp-module', judgeMachineConfig(engine, snapshot, load, '4.18')],
      ['in-3.5', judgeMachineConfig(engine, snapshot, bad, '4.18')],
    ]);
    t.match(
      judgePool(worker, [load, bad], judgements, '4.18', '4.17'),
      { refused: ['in-3.5'], after: { carries: true } },
      'a failed render keeps the nodes on their config',
    );
  },
);

t.test('the cluster at a release: its rendered version, whatever the policy fixes', async (t) => {
  t.match(snapshotAt(snapshot, '4.19'), { openshiftVersion: '4.19', renderedIgnitionVersion: '3.5.0' });
  t.ok(snapshotAt(snapshot, '4.19').pools.every((p) => p.ignitionVersion === '3.5.0'));
  t.equal(upgradePolicy(defaultPolicy()).ignition.targetVersion, 'auto');
});
