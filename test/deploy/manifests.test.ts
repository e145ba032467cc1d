import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webhookConfigurations, type WebhookConfigOptions } from '../../src/admission/webhook-config.js';
import { Command } from 'commander';
import { configurationsFor, type RegisterOptions } from '../../src/cli/register.js';
import {
  bindAddress,
  DEFAULT_HEALTH_PROBE_BIND_ADDRESS,
  DEFAULT_METRICS_BIND_ADDRESS,
  registerServeCommand,
} from '../../src/cli/serve.js';
import { WATCHED_KINDS } from '../../src/cluster/records.js';
import { parsePolicy } from '../../src/policy/load.js';
import { defaultPolicy, DEFAULT_WEBHOOK_NAMESPACE } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { clusterDataOf } from '../../src/engine/cluster-data.js';
import { schemaErrors } from '../helpers/k8s-schema.js';
import {
  DEPLOY_DIR,
  DEPLOY_KUSTOMIZATIONS,
  kustomizeBuild,
  readYamlDocuments,
  type K8sObject,
} from '../helpers/kustomize.js';
import { repoPath } from '../helpers/repo.js';

const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
const REGENERATE = 'npm run build && node dist/src/cli/main.js register --dry-run > deploy/webhooks/webhooks.yaml';

const render = (dir: string) => kustomizeBuild(join(DEPLOY_DIR, dir));
const find = (objs: K8sObject[], kind: string, name?: string): any => {
  const found = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''}`);
  return found;
};
const webhookConfigs = (objs: K8sObject[]) => objs.filter((o) => /WebhookConfiguration$/.test(o.kind));
const withoutAnnotations = (o: K8sObject) => ({ ...o, metadata: { name: o.metadata.name, labels: o.metadata.labels } });

const flagValue = (args: string[], flag: string) => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
function registerServeForTest() {
  const program = new Command();
  registerServeCommand(program);
  return program.commands.filter((c) => c.name() === 'serve');
}

// kustomize orders its output by kind: compare as sets of objects.
const byKind = (objs: Array<{ kind?: string }>) =>
  [...objs].sort((a, b) => String(a.kind).localeCompare(String(b.kind)));

const generated = (options: Partial<WebhookConfigOptions> = {}) => {
  const c = webhookConfigurations({
    rules: ALL_RULES,
    policy: defaultPolicy(),
    target: { service: { name: 'sctp-guard', namespace: DEFAULT_WEBHOOK_NAMESPACE, port: 443 } },
    ...options,
  });
  return [c.validating, c.mutating].filter((x) => x !== undefined);
};

t.test('every object of every kustomization is valid against the Kubernetes API schemas', async (t) => {
  for (const dir of DEPLOY_KUSTOMIZATIONS) {
    for (const obj of render(dir)) t.same(await schemaErrors(obj), [], `${dir}: ${obj.kind} ${obj.metadata.name}`);
  }
});

t.test('the schema check catches wrong types and unknown fields (it can fail)', async (t) => {
  const deployment = structuredClone(find(render('base'), 'Deployment'));
  deployment.spec.replicas = 'two';
  deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
  const errors = await schemaErrors(deployment);
  t.match(errors.join('\n'), /replicas must be integer/);
  t.match(
    errors.join('\n'),
    /unknown field spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFileSystem/,
  );
  const webhook = structuredClone(find(render('webhooks'), 'ValidatingWebhookConfiguration'));
  webhook.webhooks[0].sideEffects = 'Maybe';
  t.match((await schemaErrors(webhook)).join('\n'), /sideEffects/);
});

t.test(`deploy/webhooks/webhooks.yaml is what the rules derive (else: ${REGENERATE})`, async (t) => {
  const checkedIn = readYamlDocuments(join(DEPLOY_DIR, 'webhooks/webhooks.yaml'));
  t.same(checkedIn, generated(), 'equal to webhookConfigurations() from ALL_RULES');
  // The regeneration command above is `register --dry-run` with its defaults: it must say the same.
  const defaults: RegisterOptions = {
    serviceName: 'sctp-guard',
    namespace: DEFAULT_WEBHOOK_NAMESPACE,
    servicePort: 443,
    legacy: false,
    timeoutSeconds: 5,
    dryRun: true,
  };
  const fromRegister = configurationsFor(defaults);
  t.same(
    checkedIn,
    [fromRegister.validating, fromRegister.mutating].filter((x) => x !== undefined),
  );
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    t.ok(
      render('base').some((o) => o.kind === kind),
      `the base installs the ${kind}`,
    );
  }
});

t.test('the legacy component equals register --legacy: no matchConditions, hooks fail open', async (t) => {
  const legacy = webhookConfigs(render('overlays/openshift-legacy'));
  t.same(byKind(legacy.map(withoutAnnotations)), byKind(generated({ matchConditions: false })));
  for (const config of legacy) {
    t.equal(
      config.metadata.annotations?.['service.beta.openshift.io/inject-cabundle'],
      'true',
      'still the OpenShift CA injection',
    );
    const [hook] = (config as any).webhooks;
    t.notOk('matchConditions' in hook);
    t.equal(hook.failurePolicy, 'Ignore');
  }
});

t.test(
  'the dev overlay equals register --url: URL mode, nothing installed in the cluster but the configurations',
  async (t) => {
    const dev = render('overlays/dev');
    t.same(dev.map((o) => o.kind).sort(), ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    t.same(byKind(dev), byKind(generated({ target: { url: 'https://host.minikube.internal:8443' } })));
  },
);

t.test('the webhook configurations: sideEffects None, v1 and v1beta1, short timeout, exclusions, CEL', async (t) => {
  for (const config of webhookConfigs(render('base')) as any[]) {
    t.equal(config.webhooks.length, 1);
    const [hook] = config.webhooks;
    t.equal(hook.sideEffects, 'None', 'dry-run requests are allowed');
    t.same(hook.admissionReviewVersions, ['v1', 'v1beta1']);
    t.ok(hook.timeoutSeconds >= 1 && hook.timeoutSeconds <= 10, 'a short timeout');
    // A MachineConfig that misses sctp-guard is read by the MCO itself: the mutating hook fails open (docs/operating.md).
    t.equal(hook.failurePolicy, config.kind.startsWith('Validating') ? 'Fail' : 'Ignore');
    t.same(hook.clientConfig.service, {
      name: 'sctp-guard',
      namespace: 'sctp-guard',
      port: 443,
      path: config.kind.startsWith('Validating') ? '/validate' : '/mutate',
    });
    t.same(
      hook.namespaceSelector.matchExpressions[0].values,
      ['kube-public', 'kube-system', 'sctp-guard'],
      'its own and the system namespaces',
    );
    t.ok(hook.matchConditions.length > 0 && hook.matchConditions.length <= 64);
  }
  const mutating = find(render('base'), 'MutatingWebhookConfiguration');
  t.same(
    mutating.webhooks[0].rules.find((r: any) => r.resources.includes('machineconfigs'))?.apiGroups,
    ['machineconfiguration.openshift.io'],
    'MachineConfigs go to the mutating hook',
  );
});

t.test('the Deployment: HA, probes, resources, locked-down container, certificates and policy mounted', async (t) => {
  const base = render('base');
  const deployment = find(base, 'Deployment');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const podLabels = deployment.spec.template.metadata.labels;
  t.equal(deployment.spec.replicas, 2);
  t.same(deployment.spec.selector.matchLabels, podLabels);
  const anti = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
  t.equal(anti.topologyKey, 'kubernetes.io/hostname');
  t.same(anti.labelSelector.matchLabels, podLabels, 'replicas repel each other');
  const pdb = find(base, 'PodDisruptionBudget');
  t.equal(pdb.spec.minAvailable, 1);
  t.same(pdb.spec.selector.matchLabels, podLabels);

  t.equal(container.image, `sctp-guard:${pkg.version}`, 'the image of this version (the Dockerfile builds it)');
  // Probes and metrics on their plain-HTTP ports: --client-ca on the webhook port must break neither.
  t.same(container.readinessProbe.httpGet, { path: '/readyz', port: 'probes', scheme: 'HTTP' });
  t.same(container.livenessProbe.httpGet, { path: '/healthz', port: 'probes', scheme: 'HTTP' });
  t.same(container.ports, [
    { name: 'https', containerPort: 8443, protocol: 'TCP' },
    { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
    { name: 'probes', containerPort: 8081, protocol: 'TCP' },
  ]);
  const args = container.args as string[];
  const serveCommand = registerServeForTest()[0]!;
  t.equal(
    bindAddress(flagValue(args, '--health-probe-bind-address') ?? DEFAULT_HEALTH_PROBE_BIND_ADDRESS)?.port,
    8081,
    'serve listens where the probes look',
  );
  t.equal(
    bindAddress(flagValue(args, '--metrics-bind-address') ?? DEFAULT_METRICS_BIND_ADDRESS)?.port,
    8080,
    'serve listens where Prometheus scrapes',
  );
  for (const arg of args.filter((a) => a.startsWith('--')))
    t.ok(
      serveCommand.options.some((o) => o.long === arg.split('=')[0]),
      `${arg.split('=')[0]} is a serve flag`,
    );
  const annotations = deployment.spec.template.metadata.annotations;
  t.same(
    [annotations['prometheus.io/scheme'], annotations['prometheus.io/port']],
    ['http', '8080'],
    'scrape annotations name the metrics port',
  );
  t.ok(container.resources.requests.cpu && container.resources.requests.memory, 'requests');
  t.ok(container.resources.limits.cpu && container.resources.limits.memory, 'limits');
  t.same(container.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  });
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.ok(pod.securityContext.runAsUser > 0, 'a numeric non-root user');

  const service = find(base, 'Service', 'sctp-guard');
  t.same(service.spec.selector, podLabels);
  t.same(
    service.spec.ports,
    [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }],
    '443 -> the https container port (8443), nothing else',
  );
  const metricsService = find(base, 'Service', 'sctp-guard-metrics');
  t.same(metricsService.spec.selector, podLabels);
  t.same(metricsService.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);

  // Every file the args name is on a mounted volume, and the volumes are the Secret and the policy ConfigMap.
  const mounts = new Map(container.volumeMounts.map((m: any) => [m.name, m.mountPath]));
  const volumes = new Map(pod.volumes.map((v: any) => [v.name, v]));
  for (const arg of container.args as string[]) {
    const file = /^--(?:tls-cert|tls-key|config)=(.+)$/.exec(arg)?.[1];
    if (!file) continue;
    const mount = [...mounts.entries()].find(([, path]) => file.startsWith(`${path}/`));
    t.ok(mount, `${file} is on a mounted volume`);
  }
  t.equal((volumes.get('tls') as any).secret.secretName, 'sctp-guard-tls');
  t.equal((volumes.get('policy') as any).configMap.name, find(base, 'ConfigMap').metadata.name);
  const shutdownTimeout = Number(
    (container.args as string[]).find((a) => a.startsWith('--shutdown-timeout='))!.split('=')[1],
  );
  t.ok(shutdownTimeout < pod.terminationGracePeriodSeconds, 'the process exits by itself before the kubelet kills it');
  t.equal(find(base, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
});

t.test(
  'RBAC: get/list/watch on exactly the cluster data the rules read, bound to the pod ServiceAccount',
  async (t) => {
    const base = render('base');
    const role = find(base, 'ClusterRole');
    const grants = role.rules
      .flatMap((r: any) => r.resources.map((res: string) => `${r.apiGroups.join(',')}/${res}`))
      .sort();
    // `/api/v1/nodes` is the core group; `/apis/<group>/<version>/<plural>` names its group.
    const informed = clusterDataOf(ALL_RULES).map((kind) => {
      const k = WATCHED_KINDS[kind];
      return `${k.path.startsWith('/apis/') ? k.path.split('/')[2] : ''}/${k.plural}`;
    });
    t.same(
      grants,
      informed.sort(),
      "the resources of the rules' clusterData (what serve's informers watch), nothing more",
    );
    t.ok(grants.includes('/nodes') && grants.includes('config.openshift.io/clusterversions'));
    for (const rule of role.rules) t.same(rule.verbs, ['get', 'list', 'watch'], `${rule.resources}: read only`);
    const binding = find(base, 'ClusterRoleBinding');
    const deployment = find(base, 'Deployment');
    t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    t.same(binding.subjects, [
      { kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: 'sctp-guard' },
    ]);
    t.ok(
      base.some(
        (o) => o.kind === 'ServiceAccount' && o.metadata.name === deployment.spec.template.spec.serviceAccountName,
      ),
    );
    t.notOk(
      base.some((o) => o.kind === 'Role' || o.kind === 'RoleBinding'),
      'no other grants',
    );
  },
);

t.test('the policy ConfigMap loads, and the webhooks skip exactly its excluded namespaces', async (t) => {
  const base = render('base');
  const cm = find(base, 'ConfigMap');
  const policy = parsePolicy(cm.data['policy.yaml'], 'deploy/base/policy.yaml', {
    rules: ALL_RULES,
    webhookNamespace: 'sctp-guard',
  });
  t.equal(policy.preset, 'openshift-baremetal');
  for (const config of webhookConfigs(base) as any[]) {
    const [hook] = config.webhooks;
    t.same(
      hook.namespaceSelector.matchExpressions[0].values,
      policy.excludedNamespaces.filter((n) => !n.endsWith('*')).sort(),
      'exact names by namespaceSelector',
    );
    const cel = hook.matchConditions.find((c: any) => c.name === 'namespace-not-excluded').expression;
    for (const pattern of policy.excludedNamespaces.filter((n) => n.endsWith('*')))
      t.match(cel, `startsWith('${pattern.slice(0, -1)}')`, `${pattern} by CEL`);
  }
  for (const obj of base) {
    if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(obj.kind) || /WebhookConfiguration$/.test(obj.kind))
      continue;
    t.equal(obj.metadata.namespace, 'sctp-guard', `${obj.kind} ${obj.metadata.name} in the webhook namespace`);
  }
});

t.test(
  'every install ships a NetworkPolicy: webhook port open (narrowed on OpenShift), metrics from monitoring only, probes from the node only',
  async (t) => {
    for (const dir of ['base', 'overlays/openshift', 'overlays/openshift-legacy', 'overlays/cert-manager']) {
      const objs = render(dir);
      const deployment = find(objs, 'Deployment');
      const policy = find(objs, 'NetworkPolicy', 'sctp-guard');
      t.same(
        policy.spec.podSelector.matchLabels,
        deployment.spec.selector.matchLabels,
        `${dir}: selects the sctp-guard pods`,
      );
      t.same(policy.spec.policyTypes, ['Ingress'], `${dir}: ingress only`);
      const portNames = deployment.spec.template.spec.containers[0].ports.map((p: any) => p.name);
      const rules = policy.spec.ingress as Array<{ from?: any[]; ports: Array<{ port: string }> }>;
      for (const rule of rules)
        for (const p of rule.ports) t.ok(portNames.includes(p.port), `${dir}: ${p.port} is a container port`);
      t.same(
        rules.flatMap((r) => r.ports.map((p) => p.port)).sort(),
        ['https', 'metrics'],
        `${dir}: no rule for the probe port (the kubelet probes from the pod's own node)`,
      );
      const metrics = rules.find((r) => r.ports.some((p) => p.port === 'metrics'))!;
      t.ok(
        metrics.from && metrics.from.length > 0 && metrics.from.every((f: any) => f.namespaceSelector),
        `${dir}: metrics only from a monitoring namespace`,
      );
      const webhook = rules.find((r) => r.ports.some((p) => p.port === 'https'))!;
      if (dir.startsWith('overlays/openshift')) {
        // Host-network peers (the kube-apiserver) need podSelector {} next to the namespaceSelector.
        t.same(
          webhook.from,
          [
            {
              namespaceSelector: { matchLabels: { 'policy-group.network.openshift.io/host-network': '' } },
              podSelector: {},
            },
          ],
          `${dir}: the webhook port from the host network only`,
        );
        t.same(
          metrics.from,
          [
            {
              namespaceSelector: { matchLabels: { 'network.openshift.io/policy-group': 'monitoring' } },
              podSelector: {},
            },
          ],
          `${dir}: metrics from OpenShift monitoring`,
        );
      } else {
        t.equal(
          webhook.from,
          undefined,
          `${dir}: the webhook port from anywhere (the API server cannot be named portably)`,
        );
      }
    }
  },
);

t.test('openshift: service-ca serving certificate, CA injection, no fixed UID for restricted-v2', async (t) => {
  const objs = render('overlays/openshift');
  const deployment = find(objs, 'Deployment');
  const secret = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'tls').secret.secretName;
  t.equal(
    find(objs, 'Service', 'sctp-guard').metadata.annotations['service.beta.openshift.io/serving-cert-secret-name'],
    secret,
    'service-ca writes the Secret the pod mounts',
  );
  for (const config of webhookConfigs(objs))
    t.equal(config.metadata.annotations?.['service.beta.openshift.io/inject-cabundle'], 'true', config.kind);
  t.notOk('runAsUser' in deployment.spec.template.spec.securityContext);
  t.notOk('runAsGroup' in deployment.spec.template.spec.securityContext);
  t.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
});

t.test(
  'cert-manager: a CA issues the serving certificate the pod mounts, the cainjector fills both caBundles',
  async (t) => {
    const objs = render('overlays/cert-manager');
    const deployment = find(objs, 'Deployment');
    const secret = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'tls').secret.secretName;
    for (const config of webhookConfigs(objs)) {
      const [ns, name] = config.metadata.annotations!['cert-manager.io/inject-ca-from']!.split('/');
      const certificate = find(objs, 'Certificate', name);
      t.equal(certificate.metadata.namespace, ns);
      t.equal(certificate.spec.secretName, secret, 'the certificate the pod serves');
      t.same(
        certificate.spec.dnsNames,
        ['sctp-guard.sctp-guard.svc', 'sctp-guard.sctp-guard.svc.cluster.local'],
        'the names the API server dials',
      );
      const issuer = find(objs, 'Issuer', certificate.spec.issuerRef.name);
      const ca = objs.find(
        (o: any) => o.kind === 'Certificate' && o.spec.secretName === issuer.spec.ca.secretName,
      ) as any;
      t.equal(ca?.spec.isCA, true, 'signed by a CA that outlives it');
      t.ok(find(objs, 'Issuer', ca.spec.issuerRef.name).spec.selfSigned, 'the CA is self-signed');
    }
  },
);
