import t from 'tap';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { schemaErrors } from '../helpers/k8s-schema.js';
import { DEPLOY_DIR, kustomizeBuild, type K8sObject } from '../helpers/kustomize.js';

/** The recipe of deploy/namespace/replacements.yaml, as a user writes it, rendered by the real kubectl kustomize. */
function renderInto(overlay: string, namespace: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-ns-'));
  copyFileSync(join(DEPLOY_DIR, 'namespace', 'replacements.yaml'), join(dir, 'replacements.yaml'));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `namespace: ${namespace}\nresources: [${relative(dir, join(DEPLOY_DIR, overlay))}]\nreplacements: [{path: replacements.yaml}]\n`,
  );
  return kustomizeBuild(dir, { cache: false });
}

const NS = 'telco-guard';
const hooks = (objs: K8sObject[]) => objs.filter((o) => /WebhookConfiguration$/.test(o.kind)) as any[];

for (const overlay of ['base', 'overlays/openshift', 'overlays/openshift-legacy', 'overlays/cert-manager']) {
  t.test(`${overlay} rendered into ${NS}: every reference to the namespace follows`, async (t) => {
    const objs = renderInto(overlay, NS);
    const text = JSON.stringify(objs);
    t.notMatch(text, /"sctp-guard\/|\.sctp-guard\.svc|"namespace":"sctp-guard"/, 'nothing names the old namespace');
    t.ok(
      objs.some((o) => o.kind === 'Namespace' && o.metadata.name === NS),
      'the Namespace',
    );
    for (const o of objs) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind) || /WebhookConfiguration$/.test(o.kind))
        continue;
      t.equal(o.metadata.namespace, NS, `${o.kind} ${o.metadata.name}`);
    }
    for (const hook of hooks(objs)) {
      const [w] = hook.webhooks;
      if (w.clientConfig.service) t.equal(w.clientConfig.service.namespace, NS, `${hook.kind} clientConfig`);
      t.ok(w.namespaceSelector.matchExpressions[0].values.includes(NS), `${hook.kind} leaves its own namespace out`);
      const inject = hook.metadata.annotations?.['cert-manager.io/inject-ca-from'];
      if (inject) t.equal(inject, `${NS}/sctp-guard-serving`, 'inject-ca-from');
    }
    const binding = objs.find((o) => o.kind === 'ClusterRoleBinding') as any;
    t.same(
      binding.subjects.map((s: any) => s.namespace),
      [NS],
      'RBAC subjects',
    );
    const deployment = objs.find((o) => o.kind === 'Deployment') as any;
    const env = deployment.spec.template.spec.containers[0].env.find((e: any) => e.name === 'POD_NAMESPACE');
    t.same(env.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } }, 'POD_NAMESPACE from the downward API');
    const cert = objs.find((o) => o.kind === 'Certificate' && o.metadata.name === 'sctp-guard-serving') as any;
    if (cert)
      t.same(
        cert.spec.dnsNames,
        [`sctp-guard.${NS}.svc`, `sctp-guard.${NS}.svc.cluster.local`],
        'Certificate dnsNames',
      );
    for (const o of objs) t.same(await schemaErrors(o), [], `${o.kind} ${o.metadata.name} is valid`);
  });
}
