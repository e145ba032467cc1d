import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { check, type CheckOptions } from '../../src/cli/check.js';

// `check` in process, on small trees written here: what it prints and the exit code a CI job sees.
const SCTP_LB =
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  namespace: telco\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 3868\n      protocol: SCTP\n';
// An ACM hub template in a quoted value: valid YAML, an object kubectl would apply as is.
const HUB_TEMPLATE =
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hub\n  namespace: telco\ndata:\n  site: \'{{hub fromConfigMap "" "sites" "name" hub}}\'\n';
// A Helm template YAML cannot read.
const HELM =
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels:\n    {{- include "labels" . | nindent 4 }}\n';

function tree(t: Test, files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

async function run(paths: string[], opts: Partial<CheckOptions> = {}, stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await check(
    { filename: paths, output: 'text', mutate: false, ...opts },
    {
      stdout: { write: (s: string) => ((stdout += s), true), isTTY: false },
      stderr: { write: (s: string) => ((stderr += s), true) },
      ...(stdin !== undefined ? { stdin } : {}),
      env: {},
    },
  );
  return { code, stdout, stderr };
}

t.test('a template document next to an SCTP LoadBalancer: the denial is found, exit 1', async (t) => {
  const dir = tree(t, { 'apps/hub.yaml': `${HUB_TEMPLATE}---\n${SCTP_LB}` });
  const r = await run([dir]);
  t.equal(r.code, 1, r.stdout + r.stderr);
  t.match(r.stdout, /hub\.yaml:15: Service telco\/lb: sctp-service-type DENY/);
  t.match(
    r.stdout,
    /^2 objects checked: 1 denied, 0 warned, 1 passed$/m,
    'the ConfigMap with {{ in a value is checked too',
  );
});

t.test('a template YAML cannot read is counted, and never passes silently', async (t) => {
  const dir = tree(t, {
    'chart/templates/svc.yaml': HELM,
    'ok.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
  });
  const strict = await run([dir], { quiet: true });
  t.equal(strict.code, 2, 'a skip that may hide objects is an input error');
  t.match(strict.stderr, /svc\.yaml:6: skipped: a template .*pass --allow-skipped/);
  const allowed = await run([dir], { quiet: true, allowSkipped: true });
  t.equal(allowed.code, 0);
  t.equal(allowed.stderr, '', '--quiet: no notice');
  t.equal(
    allowed.stdout,
    '1 object checked: 0 denied, 0 warned, 1 passed, 1 skipped (1 template)\n',
    'but the summary line counts the skip',
  );
});

t.test('what kubectl decodes: a UTF-16 manifest with a byte order mark, a !!binary protocol', async (t) => {
  const dir = tree(t, {
    'utf16le.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SCTP_LB, 'utf16le')]),
    'binary.yaml': SCTP_LB.replace('lb', 'lb2').replace('protocol: SCTP', 'protocol: !!binary U0NUUA=='),
  });
  const r = await run([dir]);
  t.equal(r.code, 1);
  t.match(r.stdout, /binary\.yaml:7: Service telco\/lb2: sctp-service-type DENY/);
  t.match(r.stdout, /utf16le\.yaml:7: Service telco\/lb: sctp-service-type DENY/);
  const yaml = await run([join(dir, 'binary.yaml')], { output: 'yaml', config: undefined }, undefined);
  t.notMatch(yaml.stdout, /!!binary/, '-o yaml never re-emits the tag');
});

t.test('a kustomize tree: patches and generator inputs it names are skipped with one line each, counted', async (t) => {
  const dir = tree(t, {
    'overlay/kustomization.yaml':
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [svc.yaml]\npatchesStrategicMerge: [smp.yaml]\npatches:\n  - path: patch.yaml\n    target: {kind: Service}\n',
    'overlay/svc.yaml': SCTP_LB.replace('LoadBalancer', 'ClusterIP'),
    'overlay/smp.yaml': 'kind: Service\nmetadata: {name: lb}\nspec: {type: NodePort}\n',
    'overlay/patch.yaml': '- op: replace\n  path: /spec/type\n  value: NodePort\n',
    'install-config.yaml': 'apiVersion: v1\nbaseDomain: example.com\nmetadata: {name: ocp}\n',
    'imageset-config.yaml': 'apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror: {}\n',
  });
  const r = await run([dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /smp\.yaml: skipped: a kustomize input \(patchesStrategicMerge of .*kustomization\.yaml\)/);
  t.match(r.stderr, /patch\.yaml: skipped: a kustomize input \(patches of /);
  t.match(r.stderr, /install-config\.yaml: skipped: openshift-install's install-config/);
  t.match(r.stderr, /imageset-config\.yaml: skipped: oc-mirror's ImageSetConfiguration/);
  t.match(
    r.stdout,
    /^1 object checked: 0 denied, 1 warned, 0 passed, 5 skipped \(2 installer config, 2 kustomize patch, 1 kustomize file\)$/m,
  );
});

t.test('--exclude: ./ is relative to the folder given; a pattern that matches nothing says so', async (t) => {
  const dir = tree(t, { 'ztp/lb.yaml': SCTP_LB, 'ok.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
  const r = await run([dir], { exclude: ['./ztp/**', 'nothing/**'] });
  t.equal(r.code, 0, r.stdout);
  t.match(r.stderr, "sctp-guard: warning: --exclude 'nothing/**' matched nothing");
  t.notMatch(r.stderr, "--exclude './ztp/**'", 'the ./ pattern matched');
});

t.test('bounded input: a device is refused, a file over --max-file-size names the flag', async (t) => {
  const dev = await run(['/dev/zero']);
  t.equal(dev.code, 2);
  t.match(dev.stderr, /^sctp-guard: \/dev\/zero: not a regular file \(a character device\)/m);
  const dir = tree(t, { 'big.yaml': SCTP_LB.padEnd(5000, '#') });
  const big = await run([join(dir, 'big.yaml')], { maxFileSize: 4096 });
  t.equal(big.code, 2);
  t.match(big.stderr, /big\.yaml: 4\.9 KiB, over the limit of 4 KiB per input: raise it with --max-file-size/);
});

t.test('stdin is read as a stream', async (t) => {
  const r = await run(['-'], {}, SCTP_LB);
  t.equal(r.code, 1);
  t.match(r.stdout, /^<stdin>:7: Service telco\/lb: sctp-service-type DENY/m);
});

// MachineConfigs as people write them: a mode typed in decimal, a unit's `enabled: "yes"`, the blog post's 2.2.0
// form with a file given twice (the MCO keeps the last entry, sctp-guard rewrites it to 3.x).
const MC_HEAD = (name: string, version: string) =>
  `apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata:\n  name: ${name}\nspec:\n  config:\n    ignition:\n      version: ${version}\n`;
const MC_DECIMAL_MODE = `${MC_HEAD('decimal-mode', '3.2.0')}    storage:
      files:
        - path: /etc/a.conf
          mode: 420
          contents: {source: 'data:,a'}
        - path: /etc/b.conf
          mode: 644
          contents: {source: 'data:,b'}
`;
const MC_BAD_UNIT = `${MC_HEAD('bad-unit', '3.2.0')}    systemd:
      units:
        - name: sctp.service
          enabled: "yes"
`;
const file22 = (path: string, mode: number) =>
  `        - filesystem: root\n          path: ${path}\n          mode: ${mode}\n          contents:\n            source: data:,\n`;
const MC_22_TWICE = `${MC_HEAD('blog-twice', '2.2.0')}    storage:\n      files:\n${file22('/etc/a.conf', 420)}${file22('/etc/a.conf', 420)}`;
const MC_22_DECIMAL = `${MC_HEAD('blog-decimal', '2.2.0')}    storage:\n      files:\n${file22('/etc/a.conf', 420)}${file22('/etc/a.conf', 644)}`;

t.test('MachineConfig findings point at the line of the offending field, in every format', async (t) => {
  const dir = tree(t, {
    'mc.yaml': `${MC_DECIMAL_MODE}---\n${MC_BAD_UNIT}`,
    'mc22.yaml': `${MC_22_TWICE}---\n${MC_22_DECIMAL}`,
  });
  const text = await run([dir]);
  t.equal(text.code, 1, text.stdout + text.stderr);
  const lines = text.stdout.split('\n');
  const at = (line: number, what: RegExp) =>
    t.ok(
      lines.some((l) => l.includes(`.yaml:${line}: `) && what.test(l)),
      `${what} at line ${line}`,
    );
  at(15, /decimal-mode: ignition-spec-version DENY: invalid mode 01204 for \/etc\/b\.conf/); // mode: 644
  at(29, /bad-unit: ignition-spec-version DENY: spec\.config\.systemd\.units\[0\]\.enabled must be boolean/); // enabled: "yes"
  // The 2.2.0 configs are checked in the 3.0 form the MCO converts them to, and rewritten: their findings still
  // point at the file as written (the second entry, which the 3.0 form has at index 0).
  at(17, /blog-twice: ignition-spec-version WARN: file \/etc\/a\.conf is given 2 times/); // the second path:
  at(1, /blog-twice: ignition-spec-version MUTATE: spec\.config: Ignition 2\.2\.0 → /);
  at(39, /blog-decimal: ignition-spec-version DENY: invalid mode 01204 for \/etc\/a\.conf/); // mode: 644

  const json = JSON.parse((await run([dir], { output: 'json' })).stdout);
  const lineOf = (name: string) => json.objects.find((o: any) => o.name === name).findings.map((f: any) => f.line);
  t.same(lineOf('decimal-mode'), [15]);
  t.same(lineOf('blog-decimal'), [39]);
  t.match((await run([dir], { output: 'github' })).stdout, /::error file=[^,]*mc\.yaml,line=29,/);
  const sarif = JSON.parse((await run([dir], { output: 'sarif' })).stdout);
  t.ok(
    sarif.runs[0].results.some((r: any) => r.locations[0].physicalLocation.region.startLine === 15),
    'SARIF: the mode line',
  );
});
