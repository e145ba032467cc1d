import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import type { JsonPatchOp, KubeObject } from '../../src/engine/types.js';
import { decodeDataUrl } from '../../src/ignition/data-url.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { Policy } from '../../src/policy/types.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { ID, ignitionSpecVersion, TRANSLATED_FROM_ANNOTATION } from '../../src/rules/ignition-spec-version.js';
import { admissionReview, exampleObject, ruleInput, testApp } from '../helpers/admission.js';

const BLOG_POST = 'openshift-machineconfig-load-sctp-2.2.0.yaml';
const DOCS = 'openshift-machineconfig-load-sctp-3.2.0.yaml';
const MC = { group: 'machineconfiguration.openshift.io', version: 'v1', kind: 'MachineConfig' };

function apply(obj: KubeObject, patch: JsonPatchOp[]): KubeObject {
  return fastJsonPatch.applyPatch(structuredClone(obj), patch as fastJsonPatch.Operation[], true, false).newDocument;
}

/**
 * The docs' MachineConfig, with each data URL replaced by what it decodes to: the blog post writes `sctp` as
 * `data:text/plain;charset=utf-8,sctp`, the docs as `data:,sctp`, and ign-converter (like the MCO) keeps a
 * source as it was written. Both give the node the same bytes, which is what the comparison is about.
 */
function decodedContents(obj: KubeObject): unknown {
  const copy = structuredClone(obj) as any;
  for (const f of copy.spec.config.storage.files) f.contents.source = decodeDataUrl(f.contents.source).toString('utf8');
  delete copy.metadata.annotations?.[TRANSLATED_FROM_ANNOTATION];
  if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0)
    delete copy.metadata.annotations;
  return copy;
}

function mutate(
  obj: KubeObject,
  policy: Policy = defaultPolicy(),
  snapshot = EMPTY_SNAPSHOT,
  extra: Partial<Parameters<Engine['evaluate']>[0]> = {},
) {
  return new Engine(ALL_RULES, policy).evaluate(
    { object: obj, oldObject: null, operation: 'CREATE', gvk: MC, namespace: '', dryRun: false, ...extra },
    snapshot,
    'mutate',
  );
}

t.test('the blog post MachineConfig (2.2.0) comes out as the documentation one (3.2.0)', async (t) => {
  const blog = exampleObject(BLOG_POST, 'MachineConfig');
  const docs = exampleObject(DOCS, 'MachineConfig');
  const decision = mutate(blog);
  t.equal(decision.allowed, true);
  t.same(
    decision.patch.filter((op) => !op.path.startsWith('/spec/config/')),
    [{ op: 'add', path: '/metadata/annotations', value: { [TRANSLATED_FROM_ANNOTATION]: '2.2.0' } }],
    'the patch touches spec.config and adds the annotation',
  );
  const patched = apply(blog, decision.patch);
  t.equal(patched.metadata?.annotations?.[TRANSLATED_FROM_ANNOTATION], '2.2.0', 'records the original version');
  t.same(
    decodedContents(patched),
    decodedContents(docs),
    'equal to the docs apart from the annotation, byte for byte on the node',
  );
  const sources = (patched.spec as any).config.storage.files.map((f: any) => f.contents.source);
  t.same(
    sources,
    ['data:,', 'data:text/plain;charset=utf-8,sctp'],
    'sources kept as written (ign-converter copies them)',
  );
  t.same(Object.keys(patched).sort(), Object.keys(blog).sort(), 'nothing but spec.config and the annotation changed');
  t.same(patched.spec && { ...(patched.spec as object), config: null }, { ...(blog.spec as object), config: null });
  // systemd-modules-load reads a last line without a newline (read_line stops at EOF): nothing to warn about.
  t.same(decision.warnings, [], 'no warning: the node loads sctp from this file as it is');
});

t.test('the documentation MachineConfig is already 3.2.0: validated, allowed, not patched', async (t) => {
  const decision = mutate(exampleObject(DOCS, 'MachineConfig'));
  t.equal(decision.allowed, true);
  t.same(decision.patch, []);
  t.same(
    decision.results.map((r) => [r.rule, r.decision]),
    [
      [ID, 'allow'],
      ['machineconfig-fields', 'allow'],
    ],
    'nothing to say',
  );
});

t.test('the target follows the cluster: rendered version, else the release, else the policy says', async (t) => {
  const docs = exampleObject(DOCS, 'MachineConfig');
  const to = (decision: ReturnType<typeof mutate>) => (apply(docs, decision.patch).spec as any).config.ignition.version;
  t.equal(
    to(mutate(docs, defaultPolicy(), { ...EMPTY_SNAPSHOT, renderedIgnitionVersion: '3.4.0' })),
    '3.4.0',
    'rendered 3.4.0',
  );
  t.equal(
    to(mutate(docs, defaultPolicy(), { ...EMPTY_SNAPSHOT, openshiftVersion: '4.6.30' })),
    '3.1.0',
    'OpenShift 4.6 renders 3.1.0',
  );
  t.equal(
    to(
      mutate(
        docs,
        { ...defaultPolicy(), ignition: { targetVersion: '3.5.0' } },
        { ...EMPTY_SNAPSHOT, renderedIgnitionVersion: '3.2.0' },
      ),
    ),
    '3.5.0',
    'the policy wins',
  );
  const patched = apply(
    docs,
    mutate(docs, defaultPolicy(), { ...EMPTY_SNAPSHOT, renderedIgnitionVersion: '3.4.0' }).patch,
  );
  t.equal(patched.metadata?.annotations?.[TRANSLATED_FROM_ANNOTATION], '3.2.0');
});

t.test('the annotation is added next to existing ones, its / escaped as ~1', async (t) => {
  const blog = exampleObject(BLOG_POST, 'MachineConfig');
  blog.metadata!.annotations = { 'example.com/owner': 'team-a' };
  const { patch } = mutate(blog);
  t.same(
    patch.filter((op) => op.path.startsWith('/metadata')),
    [{ op: 'add', path: '/metadata/annotations/sctp-guard.io~1ignition-translated-from', value: '2.2.0' }],
  );
  t.same(apply(blog, patch).metadata?.annotations, {
    'example.com/owner': 'team-a',
    [TRANSLATED_FROM_ANNOTATION]: '2.2.0',
  });
  const again = apply(blog, patch);
  again.spec = exampleObject(BLOG_POST, 'MachineConfig').spec;
  t.same(
    apply(again, mutate(again).patch).metadata?.annotations?.[TRANSLATED_FROM_ANNOTATION],
    '2.2.0',
    're-applied: replaced, not doubled',
  );
});

t.test('dry runs are mutated the same way', async (t) => {
  const blog = exampleObject(BLOG_POST, 'MachineConfig');
  t.same(mutate(blog, defaultPolicy(), EMPTY_SNAPSHOT, { dryRun: true }).patch, mutate(blog).patch);
});

t.test("never touched: the MCO's own configs, configs without spec.config, deletes", async (t) => {
  const rendered = exampleObject(BLOG_POST, 'MachineConfig');
  rendered.metadata = {
    name: 'rendered-worker-0123abcd',
    ownerReferences: [
      {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfigPool',
        name: 'worker',
        controller: true,
      },
    ],
  };
  const skipped = mutate(rendered);
  t.same(skipped.patch, []);
  t.match(
    skipped.skipped,
    /Machine Config Operator's own \(owned by MachineConfigPool worker\)/,
    'the engine skips it before the rule runs',
  );
  const named = { ...rendered, metadata: { name: 'rendered-by-hand' } };
  t.not(mutate(named).patch.length, 0, 'a rendered- name alone is not the controller');
  const kargsOnly = {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name: '05-kargs' },
    spec: { kernelArguments: ['sctp.x=1'] },
  };
  t.same(ignitionSpecVersion.evaluate(ruleInput(kargsOnly)).findings, []);
  t.same(ignitionSpecVersion.evaluate(ruleInput(null, { operation: 'DELETE', oldObject: rendered })).findings, []);
});

t.test('what the MCO would reject is denied with the reason and the fix; no patch goes out', async (t) => {
  const blog = exampleObject(BLOG_POST, 'MachineConfig');
  (blog.spec as any).config.storage.files[1].mode = 644;
  const decision = mutate(blog);
  t.equal(decision.allowed, false);
  t.same(decision.patch, [], 'a denial carries no patch');
  t.match(
    decision.message,
    /^\[ignition-spec-version\] MachineConfig load-sctp-module: invalid mode 01204 for \/etc\/modules-load\.d\/sctp-load\.conf, cannot exceed 0777 .*Fix: 644 reads as the octal mode 0644 typed in decimal: use 420 \(JSON\) or YAML 0644\. Target Ignition version: 3\.2\.0/,
  );
});

t.test('a 3.4 field in a cluster that renders 3.2 is denied naming the field and the release', async (t) => {
  const docs = exampleObject(DOCS, 'MachineConfig');
  (docs.spec as any).config = {
    ignition: { version: '3.4.0' },
    storage: { luks: [{ name: 'var', device: '/dev/sdb', discard: true }] },
  };
  const decision = mutate(docs, defaultPolicy(), { ...EMPTY_SNAPSHOT, openshiftVersion: '4.12.9' });
  t.equal(decision.allowed, false);
  t.match(
    decision.message,
    /spec\.config\.storage\.luks\[0\]\.discard exists only from Ignition 3\.4\.0, and the target version is 3\.2\.0\. Fix: .*rendered from OpenShift 4\.14 on\. Target Ignition version: 3\.2\.0 \(what OpenShift 4\.12\.9 renders\)/,
  );
});

t.test('an update that leaves a bad config as it was warns instead of blocking', async (t) => {
  const bad = exampleObject(DOCS, 'MachineConfig');
  (bad.spec as any).config.storage.files[0].mode = 644;
  const relabelled = structuredClone(bad);
  relabelled.metadata!.labels = { ...relabelled.metadata!.labels, team: 'a' };
  const update = mutate(relabelled, defaultPolicy(), EMPTY_SNAPSHOT, { operation: 'UPDATE', oldObject: bad });
  t.equal(update.allowed, true);
  t.match(update.warnings, [/existing config: \/etc\/modprobe\.d\/sctp-blacklist\.conf: mode 644/]);
  const worse = structuredClone(relabelled);
  (worse.spec as any).config.storage.files[1].mode = 755;
  t.equal(
    mutate(worse, defaultPolicy(), EMPTY_SNAPSHOT, { operation: 'UPDATE', oldObject: bad }).allowed,
    false,
    'a changed config is checked in full',
  );
});

t.test('a finding points at the offending field; a 2.2.0 one at the field as written, not as translated', async (t) => {
  const paths = (obj: KubeObject) => ignitionSpecVersion.evaluate(ruleInput(obj)).findings.map((f) => f.path);
  const docs = exampleObject(DOCS, 'MachineConfig');
  (docs.spec as any).config.storage.files[1].mode = 644;
  t.same(paths(docs), ['/spec/config/storage/files/1/mode']);
  const blog = exampleObject(BLOG_POST, 'MachineConfig');
  const files = (blog.spec as any).config.storage.files;
  // The first file again, decimal: the MCO keeps this last entry (removeIgnDuplicateFilesUnitsUsers), the 3.0
  // config has it at index 1, the input at index 2.
  files.push({ ...files[0], mode: 644 });
  t.same(paths(blog), ['/spec/config/storage/files/2/path', '/spec/config/storage/files/2/mode']);
  (blog.spec as any).config.ignition.version = '9.9.9';
  t.same(paths(blog), ['/spec/config/ignition/version'], 'a problem of the whole config: its version');
});

t.test('an update that keeps the bad field but changes spec.config elsewhere is checked in full', async (t) => {
  const bad = exampleObject(DOCS, 'MachineConfig');
  (bad.spec as any).config.storage.files[0].mode = 644;
  const changed = structuredClone(bad);
  (changed.spec as any).config.systemd = { units: [{ name: 'sctp-ready.service', enabled: true }] };
  const update = mutate(changed, defaultPolicy(), EMPTY_SNAPSHOT, { operation: 'UPDATE', oldObject: bad });
  t.equal(update.allowed, false, 'the config the pool renders changes: its problems block, as a new config');
});

t.test('enforcement warn: the translation still goes out with the MCO problem as a warning', async (t) => {
  const blog = exampleObject(BLOG_POST, 'MachineConfig');
  (blog.spec as any).config.storage.directories = [{ filesystem: 'root', path: '/etc/sctp' }];
  const policy = { ...defaultPolicy(), rules: { [ID]: { enforcement: 'warn' as const } } };
  const decision = mutate(blog, policy);
  t.equal(decision.allowed, true);
  t.equal((apply(blog, decision.patch).spec as any).config.ignition.version, '3.2.0', 'translated');
  t.match(decision.warnings, [/: storage\.directories cannot be applied to running nodes$/]);
});

t.test('POST /mutate through the real server: each documentation MachineConfig', async (t) => {
  const { app, auditLines } = testApp();
  t.teardown(() => app.close());
  const docs = exampleObject(DOCS, 'MachineConfig');
  for (const dryRun of [false, true]) {
    const blog = exampleObject(BLOG_POST, 'MachineConfig');
    const body = admissionReview(blog, { dryRun });
    const res = await app.inject({ method: 'POST', url: '/mutate', payload: body });
    t.equal(res.statusCode, 200);
    const response = res.json().response;
    t.equal(response.uid, body.request.uid);
    t.equal(response.allowed, true);
    t.equal(response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as JsonPatchOp[];
    const patched = apply(blog, patch);
    t.same(
      decodedContents(patched),
      decodedContents(docs),
      `dryRun ${dryRun}: the patched object is the documentation's`,
    );
    t.equal(response.warnings, undefined, 'no warnings');
    t.match(auditLines.at(-1), { audit: 'admission', phase: 'mutate', kind: 'MachineConfig', dryRun, patched: true });
  }
  const res = await app.inject({ method: 'POST', url: '/mutate', payload: admissionReview(docs) });
  const response = res.json().response;
  t.equal(response.allowed, true);
  t.equal(response.patch, undefined, 'the documentation MachineConfig needs no patch');
  t.equal(response.patchType, undefined);
  const validate = await app.inject({
    method: 'POST',
    url: '/validate',
    payload: admissionReview(exampleObject(BLOG_POST, 'MachineConfig')),
  });
  t.equal(validate.json().response.patch, undefined, 'a mutating rule never patches from /validate');
});
