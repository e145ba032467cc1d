import t from 'tap';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { docFiles, fencedBlocks, runInSandbox } from '../helpers/docs.js';
import { DEPLOY_DIR, kustomizeBuild, type K8sObject } from '../helpers/kustomize.js';
import { REPO_ROOT } from '../helpers/repo.js';

/**
 * The install, upgrade, uninstall and CI recipes of README.md and docs/ that need a cluster or a registry (the
 * runnable ones run in test/slow/docs-runnable.test.ts): every overlay they apply renders with the real kubectl
 * kustomize, every object they name exists in what those overlays install, the uninstall recipes remove the webhook
 * configurations before anything else, and the CI snippets' commands run against a checkout-like folder.
 */
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const blocks = docFiles().flatMap((file) => fencedBlocks(file, readFileSync(join(REPO_ROOT, file), 'utf8')));
const shell = blocks.filter((b) => b.lang === 'sh');

/** A recipe's commands, one per line, continuations joined, comments dropped. */
function commands(script: string): string[] {
  return script
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) =>
      l
        .replace(/\s+#.*$/, '')
        .replace(/^#.*$/, '')
        .trim(),
    )
    .filter(Boolean);
}

const KUBECTL = /\b(?:kubectl|oc)\b/;
const applied = new Map<string, K8sObject[]>();
for (const b of shell) {
  for (const c of commands(b.script)) {
    const k = /\b(?:kubectl|oc) (?:apply|delete) -k (\S+)/.exec(c)?.[1];
    if (k?.startsWith('deploy/') && !applied.has(k)) applied.set(k, kustomizeBuild(join(DEPLOY_DIR, '..', k)));
  }
}
// What the optional components add (the docs show them on top of an install).
const components = readdirSync(join(DEPLOY_DIR, 'components')).map((c) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-recipe-'));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `resources: [${relative(dir, join(DEPLOY_DIR, 'base'))}]\ncomponents: [${relative(dir, join(DEPLOY_DIR, 'components', c))}]\n` +
      // The monitoring component takes its runbook URL from the overlay's setting (docs/monitoring.md).
      (c === 'monitoring'
        ? 'configMapGenerator:\n  - name: sctp-guard-docs\n    literals: [monitoringPage=https://docs.example.test/monitoring.md]\n    options: {disableNameSuffixHash: true, annotations: {config.kubernetes.io/local-config: "true"}}\n'
        : ''),
  );
  return kustomizeBuild(dir, { cache: false });
});
const installed = [...applied.values(), ...components].flat();
const has = (kind: string, name: string, namespace?: string) =>
  installed.some(
    (o) =>
      o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace),
  );
const ns = (c: string) => /(?:^|\s)(?:-n|--namespace)[ =](\S+)/.exec(c)?.[1];

t.test('the recipes apply overlays that exist and render', async (t) => {
  t.ok(applied.size >= 4, `overlays the docs apply: ${[...applied.keys()].join(', ')}`);
  for (const [dir, objs] of applied) t.ok(objs.length > 0, `kubectl kustomize ${dir}`);
});

t.test('every object a recipe names is one the overlays install', async (t) => {
  let named = 0;
  for (const b of shell) {
    for (const c of commands(b.script).filter((x) => KUBECTL.test(x))) {
      const where = `${b.file}:${b.line}: ${c}`;
      const checks: Array<[string, string | undefined, string | undefined]> = [
        ['Deployment', /\brollout (?:status|restart) deploy(?:ment)?\/(\S+)/.exec(c)?.[1], ns(c)],
        ['Deployment', /\bport-forward deploy(?:ment)?\/(\S+)/.exec(c)?.[1], ns(c)],
        ['ConfigMap', /\bedit configmap (\S+)/.exec(c)?.[1], ns(c)],
        ['CronJob', /\bcreate job --from=cronjob\/(\S+)/.exec(c)?.[1], ns(c)],
        ['Namespace', /\bcreate namespace (\S+)/.exec(c)?.[1], undefined],
        [
          'ValidatingWebhookConfiguration',
          /\b(?:get|delete) validatingwebhookconfiguration(?:,mutatingwebhookconfiguration)? (\S+)/.exec(c)?.[1],
          undefined,
        ],
        [
          'MutatingWebhookConfiguration',
          /\b(?:get|delete) (?:validatingwebhookconfiguration,)?mutatingwebhookconfiguration (\S+)/.exec(c)?.[1],
          undefined,
        ],
      ];
      for (const [kind, name, namespace] of checks) {
        if (!name) continue;
        named++;
        t.ok(has(kind, name, namespace), `${where}: ${kind} ${namespace ? `${namespace}/` : ''}${name} is installed`);
      }
      const secret = /\bcreate secret tls (\S+)/.exec(c)?.[1];
      if (secret) {
        named++;
        const mounted = installed.some(
          (o: any) =>
            o.kind === 'Deployment' &&
            o.metadata.namespace === ns(c) &&
            o.spec.template.spec.volumes.some((v: any) => v.secret?.secretName === secret),
        );
        t.ok(mounted, `${where}: the Deployment in ${ns(c)} mounts the Secret ${secret}`);
      }
    }
  }
  t.ok(named >= 8, `${named} names checked`);
});

t.test('uninstall recipes remove the webhook configurations before anything else', async (t) => {
  const recipes = shell.filter((b) => /uninstall/i.test(b.heading));
  t.ok(recipes.length >= 1, `uninstall recipes: ${recipes.map((b) => `${b.file}:${b.line}`).join(', ')}`);
  const hooks = installed
    .filter((o) => /WebhookConfiguration$/.test(o.kind))
    .map((o) => `${o.kind}/${o.metadata.name}`);
  for (const b of recipes) {
    const removed = new Set<string>();
    for (const c of commands(b.script)) {
      if (/\bsctp-guard unregister\b/.test(c)) hooks.forEach((h) => removed.add(h));
      const kinds =
        /\bdelete ((?:validating|mutating)webhookconfiguration(?:,(?:validating|mutating)webhookconfiguration)?) (\S+)/.exec(
          c,
        );
      if (kinds)
        for (const k of kinds[1]!.split(','))
          removed.add(`${k.startsWith('validating') ? 'Validating' : 'Mutating'}WebhookConfiguration/${kinds[2]}`);
      if (/\bdelete (?:-k|-f|namespace|ns|deploy)/.test(c)) {
        t.same(
          [...hooks].filter((h) => !removed.has(h)),
          [],
          `${b.file}:${b.line}: every webhook configuration is gone before \`${c}\``,
        );
      }
    }
    t.same(
      [...hooks].filter((h) => !removed.has(h)),
      [],
      `${b.file}:${b.line}: the recipe removes every webhook configuration`,
    );
  }
});

/** The commands of the CI snippets (GitHub Actions `run:` steps, GitLab `script:` lines). */
const ci = blocks
  .filter((b) => b.lang === 'yaml')
  .flatMap((b) => {
    const doc = parse(b.script) as Record<string, any> | null;
    if (!doc || typeof doc !== 'object') return [];
    const github = Object.values(doc.jobs ?? {}).flatMap((j: any) =>
      (j.steps ?? []).map((s: any) => s.run).filter(Boolean),
    );
    const gitlab = Object.values(doc).flatMap((j: any) => (Array.isArray(j?.script) ? j.script : []));
    const runs = [...github, ...gitlab] as string[];
    return runs.length
      ? [{ where: `${b.file}:${b.line}`, system: github.length ? 'GitHub Actions' : 'GitLab CI', runs }]
      : [];
  });

/** A repository as the snippets expect one: manifests, a kustomize overlay, a policy file, a saved cluster state. */
function checkout(cwd: string): void {
  const manifests = join(cwd, 'manifests');
  mkdirSync(manifests);
  for (const f of ['ako-sctp-loadbalancer.yaml', 'openshift-sctp-service-clusterip.yaml', 'openshift-sctp-pod.yaml'])
    cpSync(join(cwd, 'examples', f), join(manifests, f));
  const overlay = join(cwd, 'overlays', 'production');
  mkdirSync(overlay, { recursive: true });
  cpSync(manifests, overlay, { recursive: true });
  writeFileSync(
    join(overlay, 'kustomization.yaml'),
    'resources: [ako-sctp-loadbalancer.yaml, openshift-sctp-service-clusterip.yaml, openshift-sctp-pod.yaml]\n',
  );
  const policyMap = parse(readFileSync(join(cwd, 'deploy', 'base', 'policy.yaml'), 'utf8')) as {
    data: Record<string, string>;
  };
  writeFileSync(join(cwd, 'sctp-guard-policy.yaml'), policyMap.data['policy.yaml']!);
  cpSync(join(cwd, 'examples', 'cluster-state'), join(cwd, 'cluster-state'), { recursive: true });
}

t.test('the CI snippets', async (t) => {
  t.same([...new Set(ci.map((c) => c.system))].sort(), ['GitHub Actions', 'GitLab CI'], 'a snippet for each CI system');
  for (const { where, system, runs } of ci) {
    for (const run of runs) {
      const install = /^npm install --global --omit=dev "?(\S+?)"?$/.exec(run);
      if (install) {
        // The tarball `npm pack` makes; installing it is what test/slow/pack.test.ts does.
        t.ok(
          install[1]!.endsWith(`/${pkg.name}-${pkg.version}.tgz`),
          `${where} (${system}): installs the npm pack tarball of this version: ${install[1]}`,
        );
        continue;
      }
      t.match(run, /\bsctp-guard check\b/, `${where}: ${run}`);
      // GitHub Actions runs `bash -e -o pipefail`; the sandbox does the same.
      const script = `${run} || echo "exit=$?"; test -s sctp-guard.xml && grep -c '<testcase' sctp-guard.xml && grep -q '<failure' sctp-guard.xml`;
      const withReport = await runInSandbox(script, checkout);
      t.equal(withReport.code, 0, `${where} (${system}): ${run}`, {
        stdout: withReport.stdout,
        stderr: withReport.stderr,
      });
      t.match(
        withReport.stdout,
        /^exit=1$/m,
        'the denied LoadBalancer fails the job (exit 1), never an input error (2)',
      );
    }
  }
  t.ok(existsSync(join(REPO_ROOT, 'test', 'slow', 'pack.test.ts')), 'the tarball install is proved by the slow suite');
});
