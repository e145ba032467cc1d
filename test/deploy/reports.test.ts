import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { auditedResources, registerAuditCommand, type AuditOptions } from '../../src/cli/audit.js';
import { REPORT_APIS } from '../../src/cli/output/policyreport.js';
import { WATCHED_KINDS } from '../../src/cluster/records.js';
import { Engine } from '../../src/engine/engine.js';
import { parsePolicy } from '../../src/policy/load.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { KINDS } from '../../src/util/kinds.js';
import { schemaErrors } from '../helpers/k8s-schema.js';
import { DEPLOY_DIR, kustomizeBuild, type K8sObject } from '../helpers/kustomize.js';

/** An overlay as a user writes it: an install plus the reports component, optionally in another namespace. */
function render(install: string, namespace?: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-reports-'));
  const rel = (p: string) => relative(dir, join(DEPLOY_DIR, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `${namespace ? `namespace: ${namespace}\n` : ''}resources: [${rel(install)}]\ncomponents: [${rel('components/reports')}]\n`,
  );
  return kustomizeBuild(dir, { cache: false });
}

const find = (objs: K8sObject[], kind: string, name: string): any => {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

/** What the real `audit` command makes of the CronJob's args (commander, as the binary parses them). */
async function parseAuditArgs(args: string[]): Promise<AuditOptions> {
  const program = new Command().exitOverride();
  registerAuditCommand(program);
  let parsed: AuditOptions | undefined;
  program.commands
    .find((c) => c.name() === 'audit')!
    .exitOverride()
    .action((opts: AuditOptions) => {
      parsed = opts;
    });
  await program.parseAsync(args, { from: 'user' });
  return parsed!;
}

const objs = render('base');
const cronJob = find(objs, 'CronJob', 'sctp-guard-reports');
const pod = cronJob.spec.jobTemplate.spec.template.spec;
const container = pod.containers[0];
const role = find(objs, 'ClusterRole', 'sctp-guard-reports');

t.test(
  'every object renders valid against the Kubernetes API schemas, with the base and with the openshift overlay',
  async (t) => {
    for (const set of [objs, render('overlays/openshift')]) {
      for (const o of set) t.same(await schemaErrors(o), [], `${o.kind} ${o.metadata.name}`);
    }
  },
);

t.test('the CronJob runs `sctp-guard audit --write-reports` with the webhook policy and image', async (t) => {
  const opts = await parseAuditArgs(container.args);
  t.equal(container.args[0], 'audit');
  t.equal(opts.writeReports, true);
  t.ok(Object.hasOwn(REPORT_APIS, opts.output), `-o ${opts.output} is a report format`);
  const deployment = find(objs, 'Deployment', 'sctp-guard');
  t.equal(
    container.image,
    deployment.spec.template.spec.containers[0].image,
    'the webhook image (kustomize images: sets both)',
  );
  const mount = container.volumeMounts.find((m: any) => opts.config!.startsWith(`${m.mountPath}/`));
  t.ok(mount, `${opts.config} is on a mounted volume`);
  const volume = pod.volumes.find((v: any) => v.name === mount.name);
  const policyMap = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name) as any;
  t.ok(policyMap, 'the webhook policy ConfigMap');
  t.ok(policyMap.data[opts.config!.slice(mount.mountPath.length + 1)], 'the file is a key of the ConfigMap');
  t.same(container.env.find((e: any) => e.name === 'POD_NAMESPACE').valueFrom, {
    fieldRef: { fieldPath: 'metadata.namespace' },
  });
  t.equal(cronJob.spec.concurrencyPolicy, 'Forbid', 'runs never overlap');
  t.equal(pod.restartPolicy, 'Never');
  t.equal(container.securityContext.readOnlyRootFilesystem, true);
  t.equal(pod.securityContext.runAsNonRoot, true);
});

t.test('RBAC: its own ServiceAccount, read-only on the kinds registry, write only on the report kinds', async (t) => {
  t.equal(pod.serviceAccountName, 'sctp-guard-reports');
  t.ok(find(objs, 'ServiceAccount', 'sctp-guard-reports'));
  const binding = find(objs, 'ClusterRoleBinding', 'sctp-guard-reports');
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'sctp-guard-reports', namespace: 'sctp-guard' }]);

  const grants = (verbs: (v: string[]) => boolean) =>
    role.rules
      .filter((r: any) => verbs(r.verbs))
      .flatMap((r: any) => r.apiGroups.flatMap((g: string) => r.resources.map((res: string) => `${g}/${res}`)))
      .sort();
  const READ = ['get', 'list', 'watch'];
  const read = grants((v) => v.every((x) => READ.includes(x)));
  const write = grants((v) => v.some((x) => !READ.includes(x)));
  const registry = Object.values(KINDS).map((k) => `${k.group}/${k.resource}`);
  t.same(read, [...new Set(registry)].sort(), 'read: exactly the kinds registry (src/util/kinds.ts)');
  for (const r of role.rules.filter((x: any) => x.verbs.every((v: string) => READ.includes(v))))
    t.same(r.verbs, READ, `${r.resources}: read only`);
  const reportKinds = Object.values(REPORT_APIS).flatMap((a) =>
    [a.namespaced, a.cluster].map((k) => `${a.group}/${k.plural}`),
  );
  t.same(write, reportKinds.sort(), 'write: only the report kinds of both APIs');
  for (const r of role.rules.filter((x: any) => x.verbs.some((v: string) => !READ.includes(v))))
    t.same(
      [...r.verbs].sort(),
      ['create', 'delete', 'get', 'list', 'patch'],
      `${r.resources}: read, server-side apply (patch; create when it creates), delete stale; no update`,
    );

  // The registry covers what this audit lists and what its cluster snapshot watches, under the deployed policy.
  const policy = parsePolicy(find(objs, 'ConfigMap', 'sctp-guard-policy').data['policy.yaml'], 'policy.yaml', {
    rules: ALL_RULES,
    webhookNamespace: 'sctp-guard',
  });
  for (const r of auditedResources(new Engine(ALL_RULES, policy)))
    t.ok(read.includes(`${r.group}/${r.plural}`), `audited: ${r.group}/${r.plural}`);
  for (const k of Object.values(WATCHED_KINDS))
    t.ok(
      read.includes(`${k.path.startsWith('/apis/') ? k.path.split('/')[2] : ''}/${k.plural}`),
      `watched: ${k.plural}`,
    );
  t.notOk(
    objs.some((o) => o.kind === 'Role' || o.kind === 'RoleBinding'),
    'no other grants',
  );
});

t.test(
  'into another namespace: the CronJob, its ServiceAccount and the binding move; the policy it mounts follows',
  async (t) => {
    const NS = 'telco-guard';
    const moved = render('base', NS);
    for (const o of moved) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind) || /WebhookConfiguration$/.test(o.kind))
        continue;
      t.equal(o.metadata.namespace, NS, `${o.kind} ${o.metadata.name}`);
    }
    t.same(find(moved, 'ClusterRoleBinding', 'sctp-guard-reports').subjects[0].namespace, NS);
    t.equal(
      find(moved, 'CronJob', 'sctp-guard-reports').metadata.namespace,
      find(moved, 'ConfigMap', 'sctp-guard-policy').metadata.namespace,
    );
    for (const o of moved) t.same(await schemaErrors(o), [], `${o.kind} ${o.metadata.name} is valid`);
  },
);
