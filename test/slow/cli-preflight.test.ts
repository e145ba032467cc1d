import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { readManifests } from '../../src/input/manifests.js';
import { CORE_TYPES, FakeApiServer, OPENSHIFT_TYPES } from '../helpers/fake-apiserver.js';
import { runCli } from '../helpers/run-cli.js';

// `preflight` against the in-process API server: the example OpenShift cluster (4.14.12), an SCTP Service, the
// MCO's own 00-worker and a MachineConfig written for 4.19 that every release before it refuses.
const api = new FakeApiServer({ types: [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES)] });
let dir = '';
let kubeconfig = '';

t.before(async () => {
  await api.start();
  dir = mkdtempSync(join(tmpdir(), 'sctp-guard-preflight-'));
  kubeconfig = api.writeKubeconfig(dir);
  api.upsertAll(
    (await readManifests(['examples/cluster-state', 'examples/upgrade'])).objects.map((m) => m.object) as never,
  );
  api.upsert(OPENSHIFT_TYPES.machineconfigs, {
    metadata: {
      name: '00-worker',
      labels: { 'machineconfiguration.openshift.io/role': 'worker' },
      annotations: { 'machineconfiguration.openshift.io/generated-by-controller-version': '4.19.0' },
      ownerReferences: [
        {
          apiVersion: 'machineconfiguration.openshift.io/v1',
          kind: 'ControllerConfig',
          name: 'machine-config-controller',
          uid: 'cc',
          controller: true,
        },
      ],
    },
    spec: { config: { ignition: { version: '3.5.0' } } },
  } as never);
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'diameter', namespace: 'telco' },
    spec: { selector: { app: 'diameter' }, ports: [{ port: 3868, protocol: 'SCTP' }] },
  });
});
t.teardown(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

t.test(
  "a live cluster: the release from its ClusterVersion, the refusal on the way, the MCO's own config left alone",
  async (t) => {
    const r = await runCli(['preflight', '--kubeconfig', kubeconfig, '--to', '4.19']);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stdout, /Upgrade 4\.14\.12 → 4\.19 through 4\.15, 4\.16, 4\.17, 4\.18/);
    t.match(r.stdout, /MachineConfig 99-worker-chrony\n {4}4\.15–4\.18 REFUSED/);
    t.notMatch(r.stdout, /MachineConfig 00-worker/, 'written by the MCO: never judged');
    t.match(r.stdout, /worker: DEGRADES at 4\.15/);
    t.match(r.stdout, /SCTP objects: no verdict changes at any release \(1 judged\)/);
  },
);

t.test('-o yaml against a live cluster prints only the rewrite', async (t) => {
  const r = await runCli(['preflight', '--kubeconfig', kubeconfig, '--to', '4.19', '-o', 'yaml']);
  t.equal(r.code, 1, r.stderr);
  const objects = parseAllDocuments(r.stdout).map((d) => d.toJS());
  t.same(
    objects.map((o) => [o.metadata.name, o.spec.config.ignition.version]),
    [['99-worker-chrony', '3.4.0']],
  );
});

t.test('an unknown release is exit 2 naming the known ones', async (t) => {
  const r = await runCli(['preflight', '--kubeconfig', kubeconfig, '--to', '4.40']);
  t.equal(r.code, 2);
  t.match(r.stderr, /release "4\.40" is not one sctp-guard knows; it knows 4\.14, 4\.15, .*4\.23, 5\.0/);
});
