import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEPLOY_DIR, DEPLOY_KUSTOMIZATIONS, kustomizeBuild, type K8sObject } from '../helpers/kustomize.js';

function kubectlKustomize(dir: string): K8sObject[] | undefined {
  try {
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const byId = (objs: K8sObject[]) =>
  Object.fromEntries(objs.map((o) => [`${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));

t.test('the test renderer gives what kubectl kustomize gives, for every overlay', async (t) => {
  if (kubectlKustomize(join(DEPLOY_DIR, 'webhooks')) === undefined) {
    t.comment('kubectl is not installed: the renderer is checked against it wherever it is');
    return;
  }
  for (const overlay of DEPLOY_KUSTOMIZATIONS) {
    const dir = join(DEPLOY_DIR, overlay);
    t.same(byId(kustomizeBuild(dir)), byId(kubectlKustomize(dir)!), overlay);
  }
});

function scratchKustomization(body: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-kustomize-'));
  writeFileSync(join(dir, 'kustomization.yaml'), body);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\ndata: {k: v}\n';

t.test('the renderer applies JSON 6902 and map-only strategic-merge patches', async (t) => {
  const dir = scratchKustomization(
    [
      'resources: [cm.yaml]',
      'patches:',
      '  - target: {kind: ConfigMap, name: a}',
      '    patch: "[{op: add, path: /data/j, value: w}]"',
      '  - patch: "{apiVersion: v1, kind: ConfigMap, metadata: {name: a, annotations: {x: y}}, data: {k: null}}"',
      '',
    ].join('\n'),
    { 'cm.yaml': CM },
  );
  const [cm] = kustomizeBuild(dir);
  t.same(cm!.data, { j: 'w' });
  t.same(cm!.metadata.annotations, { x: 'y' });
});

t.test('the renderer refuses what it does not implement instead of skipping it', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['namespace: other\nresources: [cm.yaml]\n', 'an unsupported field', /field "namespace" is not supported/],
    ['resources: [cm.yaml]\npatches:\n  - target: {kind: Secret}\n    patch: "[{op: remove, path: /data}]"\n', 'a target that matches nothing', /matches no resource/],
    ['resources: [cm.yaml]\npatches:\n  - target: {labelSelector: a=b}\n    patch: "[{op: remove, path: /data}]"\n', 'a label selector', /target field "labelSelector"/],
    ['resources: [cm.yaml]\npatches:\n  - patch: "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}, list: [1]}"\n', 'a list in a strategic merge', /list at "list"/],
    ['resources: [cm.yaml, cm.yaml]\n', 'a duplicate resource', /defined twice/],
    ['resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: "[{op: remove, path: /nope}]"\n', 'a JSON patch that fails', /ConfigMap a/],
  ];
  for (const [body, what, message] of cases) {
    const dir = scratchKustomization(body, { 'cm.yaml': CM });
    t.throws(() => kustomizeBuild(dir), { name: 'KustomizeError', message }, what);
  }
});
