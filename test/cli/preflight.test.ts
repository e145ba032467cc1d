import t from 'tap';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { preflight, type PreflightOptions } from '../../src/cli/preflight.js';
import { upgradePath, UpgradeError } from '../../src/engine/upgrade.js';
import { KNOWN_RELEASES } from '../../src/ignition/releases.js';
import { EXAMPLES_DIR } from '../helpers/admission.js';

const STATE = join(EXAMPLES_DIR, 'cluster-state');

async function run(opts: Partial<PreflightOptions> & { to: string }) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true) },
  };
  const code = await preflight({ filename: [], output: 'text', ...opts }, io as never);
  return { code, stdout, stderr };
}

/** The example state with the cluster at `release` and extra objects in a file of their own. */
function stateWith(release: string, extra: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-preflight-'));
  cpSync(STATE, dir, { recursive: true });
  const cv = join(dir, 'clusterversion.yaml');
  writeFileSync(
    cv,
    stringify({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ClusterVersion',
      metadata: { name: 'version' },
      status: { desired: { version: release } },
    }),
  );
  writeFileSync(join(dir, 'extra.yaml'), extra.map((o) => stringify(o)).join('---\n'));
  return dir;
}

const machineConfig = (name: string, role: string, config: object, extra: object = {}) => ({
  apiVersion: 'machineconfiguration.openshift.io/v1',
  kind: 'MachineConfig',
  metadata: { name, labels: { 'machineconfiguration.openshift.io/role': role } },
  spec: { config, ...extra },
});

// A plain 3.5.0 config: what 4.19 renders, and a version no earlier MCO parses.
const CHRONY_35 = {
  ignition: { version: '3.5.0' },
  storage: {
    files: [
      {
        path: '/etc/chrony.conf',
        mode: 420,
        overwrite: true,
        contents: { source: 'data:,server%20ntp.example.com%0A' },
      },
    ],
  },
};

t.test('the path: every minor the control plane passes through, and the releases sctp-guard knows', async (t) => {
  t.same(
    upgradePath('4.14.12', '4.18', KNOWN_RELEASES),
    ['4.15', '4.16', '4.17', '4.18'],
    'EUS to EUS: the MCO of 4.15 and 4.17 renders too',
  );
  t.same(upgradePath('4.18.3', '4.19.1', KNOWN_RELEASES), ['4.19']);
  t.same(upgradePath('4.18.3', '4.18.9', KNOWN_RELEASES), ['4.18'], 'a z-stream update is judged at its own release');
  t.throws(
    () => upgradePath('4.14.1', '4.40', KNOWN_RELEASES),
    new UpgradeError(`release "4.40" is not one sctp-guard knows; it knows ${KNOWN_RELEASES.join(', ')}`),
  );
  t.throws(
    () => upgradePath('4.16', '4.14', KNOWN_RELEASES),
    /older than the cluster's release 4\.16: OpenShift does not downgrade/,
  );
});

t.test('the example state upgrades to 4.19: every config translated by the MCO, SCTP kept where it was', async (t) => {
  const r = await run({ clusterState: STATE, to: '4.19' });
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /Upgrade 4\.14\.12 → 4\.19 through 4\.15, 4\.16, 4\.17, 4\.18/);
  t.match(
    r.stdout,
    /MachineConfig load-sctp-module\n {4}4\.15–4\.18 TRANSLATED: the MCO translates Ignition 3\.2\.0 to 3\.4\.0 when it renders\n {4}4\.19 TRANSLATED: the MCO translates Ignition 3\.2\.0 to 3\.5\.0/,
  );
  t.match(r.stdout, /worker: keeps SCTP through 4\.19/);
  t.match(r.stdout, /master: does not carry SCTP, before or after/);
  t.notMatch(r.stdout, /rendered-worker/, "rendered configs are the MCO's own: never judged");
});

t.test(
  'an intermediate release that refuses a config: found at 4.18 on the way from 4.17 to 4.19, with its rewrite',
  async (t) => {
    const dir = stateWith('4.17.4', [machineConfig('99-worker-chrony', 'worker', CHRONY_35)]);
    const r = await run({ clusterState: dir, to: '4.19' });
    t.equal(r.code, 1, r.stdout + r.stderr);
    t.match(
      r.stdout,
      /MachineConfig 99-worker-chrony\n {4}4\.18 REFUSED: the MCO parses Ignition up to 3\.4\.0 and refuses 3\.5\.0/,
    );
    t.match(r.stdout, /4\.19 AS-IS: read as is: Ignition 3\.5\.0 is the version the MCO renders/);
    t.match(r.stdout, /worker: DEGRADES at 4\.18: the MCO refuses 99-worker-chrony/);

    const yaml = await run({ clusterState: dir, to: '4.19', output: 'yaml' });
    t.equal(yaml.code, 1);
    const objects = parseAllDocuments(yaml.stdout).map((d) => d.toJS());
    t.equal(objects.length, 1, 'stdout holds only the rewrites, for oc apply -f -');
    t.equal(objects[0].metadata.name, '99-worker-chrony');
    t.equal(
      objects[0].spec.config.ignition.version,
      '3.4.0',
      'in the version the first refusing release renders, which 4.19 reads too',
    );
    t.match(yaml.stderr, /REFUSED/, 'the explanation goes to stderr');
  },
);

t.test("the MCO's own MachineConfigs are never judged, whatever version they are in", async (t) => {
  const own = {
    ...machineConfig('00-worker', 'worker', CHRONY_35),
    metadata: {
      name: '00-worker',
      labels: { 'machineconfiguration.openshift.io/role': 'worker' },
      annotations: { 'machineconfiguration.openshift.io/generated-by-controller-version': 'abc123' },
      ownerReferences: [
        {
          apiVersion: 'machineconfiguration.openshift.io/v1',
          kind: 'ControllerConfig',
          name: 'machine-config-controller',
          controller: true,
        },
      ],
    },
  };
  const r = await run({ clusterState: stateWith('4.18.1', [own]), to: '4.19' });
  t.notMatch(r.stdout, /00-worker\n/);
});

t.test('output formats: json names the fate per release, sarif and junit carry the refusals', async (t) => {
  const dir = stateWith('4.17.4', [machineConfig('99-worker-chrony', 'worker', CHRONY_35)]);
  const json = JSON.parse((await run({ clusterState: dir, to: '4.19', output: 'json' })).stdout);
  t.match(json, { kind: 'PreflightReport', from: '4.17.4', to: '4.19', path: ['4.18', '4.19'], exitCode: 1 });
  const chrony = json.machineConfigs.find((m: { name: string }) => m.name === '99-worker-chrony');
  t.same(
    chrony.releases.map((r: { fate: string }) => r.fate),
    ['refused', 'as-is'],
  );
  const sarif = JSON.parse((await run({ clusterState: dir, to: '4.19', output: 'sarif' })).stdout);
  t.ok(
    sarif.runs[0].results.some(
      (r: { ruleId: string; message: { text: string } }) =>
        r.ruleId === 'ignition-spec-version' && /OpenShift 4\.18/.test(r.message.text),
    ),
  );
  const junit = (await run({ clusterState: dir, to: '4.19', output: 'junit' })).stdout;
  t.match(junit, /<failure[^>]*>[^<]*99-worker-chrony/);
});

t.test('without a ClusterVersion the release must be given', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-preflight-'));
  for (const f of ['nodes.yaml', 'machineconfigs.yaml', 'machineconfigpools.yaml'])
    cpSync(join(STATE, f), join(dir, f));
  await t.rejects(run({ clusterState: dir, to: '4.19' }), /release is unknown .*pass --from/);
  t.equal((await run({ clusterState: dir, to: '4.19', from: '4.18' })).code, 0);
});

t.test(
  '4.14 to 4.18 through 4.16: a config the 4.14 and 4.15 MCO never check is refused by the render controller of 4.16 and 4.17',
  async (t) => {
    // A pool with no nodes yet: before 4.16 only the daemon checks extensions (validateExtensions, on each RHCOS node);
    // from 4.16 ValidateMachineConfig in the render controller does, and sysstat is allowed from 4.18.
    const pool = {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: { name: 'edge' },
      spec: {
        machineConfigSelector: { matchLabels: { 'machineconfiguration.openshift.io/role': 'edge' } },
        nodeSelector: { matchLabels: { 'node-role.kubernetes.io/edge': '' } },
      },
    };
    const sysstat = machineConfig(
      '99-edge-sysstat',
      'edge',
      { ignition: { version: '3.4.0' } },
      { extensions: ['sysstat'] },
    );
    const r = await run({ clusterState: stateWith('4.14.12', [pool, sysstat]), to: '4.18' });
    t.equal(r.code, 1, r.stdout + r.stderr);
    t.match(r.stdout, /Upgrade 4\.14\.12 → 4\.18 through 4\.15, 4\.16, 4\.17/);
    t.match(
      r.stdout,
      /MachineConfig 99-edge-sysstat\n {4}4\.15 AS-IS[^\n]*\n {4}4\.16 REFUSED: [^\n]*invalid extensions found: \[sysstat\][^\n]*\n {4}4\.17 REFUSED[^\n]*\n {4}4\.18 AS-IS/,
    );
    t.match(r.stdout, /edge: DEGRADES at 4\.16: the MCO refuses 99-edge-sysstat/);
  },
);
