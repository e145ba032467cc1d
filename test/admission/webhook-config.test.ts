import t from 'tap';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { webhookConfigurations, type WebhookConfigOptions } from '../../src/admission/webhook-config.js';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine, evaluateRule, type Phase } from '../../src/engine/engine.js';
import type { KubeObject, Rule } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { Policy } from '../../src/policy/types.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { podSpecOf } from '../../src/rules/objects.js';
import { matchKinds } from '../../src/rules/matches.js';
import { advisory, pass } from '../../src/engine/verdict.js';
import { kindInfo, POD_KINDS, podSpecPath } from '../../src/util/kinds.js';
import { exampleObjects, EXAMPLES_DIR } from '../helpers/admission.js';

const SERVICE_TARGET = { service: { name: 'sctp-guard', namespace: 'sctp-guard', port: 443 } };
const configs = (options: Partial<WebhookConfigOptions> = {}) =>
  webhookConfigurations({ rules: ALL_RULES, policy: defaultPolicy(), target: SERVICE_TARGET, ...options });
const hookOf = (phase: Phase, options: Partial<WebhookConfigOptions> = {}): any => {
  const c = configs(options);
  return (phase === 'validate' ? c.validating : c.mutating)!.webhooks![0];
};
const PHASES: Phase[] = ['validate', 'mutate'];
const rulesOf = (phase: Phase) => ALL_RULES.filter((r) => r.phase === phase);

t.test('rules: exactly the group, resources, versions and operations the rules of each phase declare', async (t) => {
  for (const phase of PHASES) {
    if (rulesOf(phase).length === 0) continue;
    const entries = hookOf(phase).rules as Array<{
      apiGroups: string[];
      apiVersions: string[];
      operations: string[];
      resources: string[];
    }>;
    const declared = new Set<string>();
    for (const rule of rulesOf(phase)) {
      for (const m of rule.matches) {
        for (const { resource } of m.kinds) {
          declared.add(`${m.group}/${resource}`);
          const entry = entries.find((e) => e.apiGroups[0] === m.group && e.resources.includes(resource));
          t.ok(entry, `${phase}: ${rule.id} reads ${m.group}/${resource}`);
          for (const v of m.versions) t.ok(entry?.apiVersions.includes(v), `${rule.id}: version ${v} of ${resource}`);
          for (const o of m.operations) t.ok(entry?.operations.includes(o), `${rule.id}: ${o} of ${resource}`);
        }
      }
    }
    const sent = entries.flatMap((e) => e.resources.map((r) => `${e.apiGroups[0]}/${r}`));
    t.same(sent.sort(), [...declared].sort(), `${phase}: nothing a rule does not read, each resource once`);
    for (const e of entries) t.equal(e.apiGroups.length, 1);
  }
});

t.test('a phase with no rule gets no configuration', async (t) => {
  const only = (phase: Phase): Rule[] => ALL_RULES.filter((r) => r.phase === phase);
  t.same(
    Object.keys(webhookConfigurations({ rules: only('validate'), policy: defaultPolicy(), target: SERVICE_TARGET })),
    ['validating'],
  );
  t.same(
    Object.keys(webhookConfigurations({ rules: only('mutate'), policy: defaultPolicy(), target: SERVICE_TARGET })),
    ['mutating'],
  );
});

t.test('service mode, URL mode, and the CA bundle', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const svc = hookOf('validate', { caBundlePem: pem });
  t.same(svc.clientConfig, {
    service: { name: 'sctp-guard', namespace: 'sctp-guard', port: 443, path: '/validate' },
    caBundle: Buffer.from(pem).toString('base64'),
  });
  const url = hookOf('mutate', { target: { url: 'https://10.0.0.1:8443/' } });
  t.same(url.clientConfig, { url: 'https://10.0.0.1:8443/mutate' }, 'path appended, no caBundle when none is given');
});

t.test(
  'legacy: no matchConditions and the hooks fail open; with them only the validating hook fails closed',
  async (t) => {
    for (const phase of PHASES) {
      const legacy = hookOf(phase, { matchConditions: false });
      t.notOk('matchConditions' in legacy, phase);
      t.equal(legacy.failurePolicy, 'Ignore');
    }
    t.equal(hookOf('validate').failurePolicy, 'Fail', 'only SCTP objects in checked namespaces wait for sctp-guard');
    t.equal(
      hookOf('mutate').failurePolicy,
      'Ignore',
      'a MachineConfig that misses its translation is read by the MCO itself',
    );
  },
);

t.test('exclusions follow the policy: exact names by namespaceSelector, patterns by CEL', async (t) => {
  const policy: Policy = { ...defaultPolicy(), excludedNamespaces: ['kube-system', 'team-*', "it's", 'openshift-*'] };
  const hook = hookOf('validate', { policy });
  t.same(hook.namespaceSelector, {
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ["it's", 'kube-system'] }],
  });
  const cel = hook.matchConditions.find((c: any) => c.name === 'namespace-not-excluded').expression;
  t.equal(cel, "!request.namespace.startsWith('team-') && !request.namespace.startsWith('openshift-')");
  const noPatterns = hookOf('validate', { policy: { ...defaultPolicy(), excludedNamespaces: ['kube-system'] } });
  t.notOk(noPatterns.matchConditions.some((c: any) => c.name === 'namespace-not-excluded'));
});

t.test('every kind a rule reads has its own match condition', async (t) => {
  for (const phase of PHASES) {
    if (rulesOf(phase).length === 0) continue;
    const names = (hookOf(phase).matchConditions as Array<{ name: string }>).map((c) => c.name);
    const kinds = new Set(rulesOf(phase).flatMap((r) => r.matches.flatMap((m) => m.kinds.map((k) => k.kind))));
    for (const kind of kinds)
      t.ok(
        names.some((n) => n.startsWith(`${kind.toLowerCase()}-`)),
        `${phase}: ${kind} is filtered by CEL`,
      );
    t.equal(new Set(names).size, names.length, 'condition names are unique');
  }
});

// ---- The CEL against the engine: what the API server filters out is what no rule would act on. ----

/** The API server hands CEL maps and lists; @bufbuild/cel wants JS Maps for CEL maps. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

// The Kubernetes base environment has the strings extension at every version (k8s.io/apiserver pkg/cel/environment/base.go).
const env = celEnv({ funcs: strings });
const compiled = new Map<string, ReturnType<typeof plan>>();
function conditionsPass(hook: any, bindings: Record<string, unknown>): boolean {
  const input = Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, toCel(v)]));
  return (hook.matchConditions as Array<{ name: string; expression: string }>).every(({ name, expression }) => {
    let run = compiled.get(expression);
    if (!run) compiled.set(expression, (run = plan(env, parse(expression))));
    const result = (run as (ctx: Record<string, unknown>) => unknown)(input);
    // An evaluation error makes the API server apply failurePolicy: the conditions must never raise one.
    if (isCelError(result) || typeof result !== 'boolean')
      throw new Error(`${name} gave ${String(result)} for ${JSON.stringify(bindings.object)}`);
    return result;
  });
}

/** A policy under which every rule acts on every SCTP object it reads. */
const STRICT: Policy = {
  ...defaultPolicy(),
  allowedServiceTypes: [],
  allowSctpGateways: false,
  akoNodePortLocal: true,
  unknownNodeState: 'deny',
  pinToSctpNodes: true,
};

const KIND_INFO = new Map<string, { group: string; version: string; namespaced: boolean }>();
for (const rule of ALL_RULES) {
  for (const m of rule.matches)
    for (const { kind } of m.kinds)
      KIND_INFO.set(kind, { group: m.group, version: m.versions[0]!, namespaced: kindInfo(m.group, kind)!.namespaced });
}

/**
 * Whether a rule of the object's kind says anything about it. Each rule is run itself: the engine trusts the
 * declarations (it does not run a rule whose SCTP fields hold none), which is what this property checks.
 */
function rulesAct(rules: readonly Rule[], object: KubeObject, namespace: string): boolean {
  const info = KIND_INFO.get(object.kind!)!;
  const req = {
    object,
    oldObject: null,
    operation: 'CREATE' as const,
    gvk: { group: info.group, version: info.version, kind: object.kind! },
    namespace,
    dryRun: false,
  };
  // What the engine skips before any rule runs (platform-owned objects, excluded namespaces), no rule acts on.
  const engine = new Engine(rules, STRICT);
  if (PHASES.every((phase) => engine.evaluate(req, EMPTY_SNAPSHOT, phase).skipped !== undefined)) return false;
  return rules
    .filter(
      (r) =>
        STRICT.rules[r.id]?.enforcement !== 'off' &&
        r.matches.some((m) => m.group === info.group && m.kinds.some((k) => k.kind === object.kind)),
    )
    .some((r) => {
      const v = evaluateRule(r, { ...req, snapshot: EMPTY_SNAPSHOT, policy: STRICT });
      return v.findings.length > 0 || v.patch.length > 0;
    });
}

function sentToPhases(object: KubeObject, namespace: string, rules: readonly Rule[] = ALL_RULES): Phase[] {
  const info = KIND_INFO.get(object.kind!)!;
  const request = {
    kind: { group: info.group, version: info.version, kind: object.kind },
    namespace,
    operation: 'CREATE',
  };
  return PHASES.filter((phase) => {
    const ofPhase = rules.filter((r) => r.phase === phase);
    if (!ofPhase.some((r) => r.matches.some((m) => m.kinds.some((k) => k.kind === object.kind)))) return false;
    const hook =
      phase === 'validate' ? configs({ rules }).validating!.webhooks![0] : configs({ rules }).mutating!.webhooks![0];
    return conditionsPass(hook, { request, object, oldObject: null });
  });
}

/** Builds `{a: {b: leaf}}` from a path; `cut` stops early, leaving the rest of the path absent. */
function nest(path: readonly string[], leaf: unknown, cut: number): Record<string, unknown> {
  let value: unknown = leaf;
  for (let i = Math.min(cut, path.length) - 1; i >= 0; i--) value = { [path[i]!]: value };
  return (cut === 0 ? {} : value) as Record<string, unknown>;
}

const protocol = fc.option(fc.constantFrom('TCP', 'UDP', 'SCTP'), { nil: undefined });
const withProtocol = <T extends Record<string, unknown>>(base: fc.Arbitrary<T>) =>
  fc.tuple(base, protocol).map(([b, p]) => (p === undefined ? b : { ...b, protocol: p }));
// Fields no rule reads today, some of them saying SCTP: a rule that starts reading one of them without declaring it
// is caught by the property below (see the drift test).
const noise = fc.constantFrom('SCTP', 'sctp', 'TCP', 'x');
const containerPort = withProtocol(
  fc.record(
    { containerPort: fc.integer({ min: 1, max: 65535 }), hostPort: fc.integer({ min: 1, max: 65535 }), name: noise },
    { requiredKeys: ['containerPort'] },
  ),
);
const container = fc.record(
  {
    name: fc.constantFrom('app', 'side'),
    ports: fc.array(containerPort, { maxLength: 3 }),
    env: fc.array(fc.record({ name: fc.constant('PROTOCOL'), value: noise }), { maxLength: 1 }),
  },
  { requiredKeys: ['name'] },
);
const podSpec = fc.record(
  {
    containers: fc.array(container, { maxLength: 3 }),
    initContainers: fc.array(container, { maxLength: 2 }),
    hostNetwork: fc.boolean(),
    nodeSelector: fc.record({ 'feature.node.kubernetes.io/kernel-loadedmodule.sctp': fc.constant('true') }),
  },
  { requiredKeys: [] },
);
const labels = fc.option(fc.record({ protocol: noise }), { nil: undefined });
const namespace = fc.constantFrom('default', 'telco', 'openshift-monitoring', 'kube-system');
const cut = fc.integer({ min: 0, max: 8 });

const workload = fc
  .tuple(fc.constantFrom(...POD_KINDS.map((k) => k.kind)), podSpec, cut, labels)
  .map(([kind, spec, depth, l]) => {
    const path = podSpecPath(kind)!;
    return {
      apiVersion: 'v1',
      kind,
      metadata: { name: 'w', ...(l ? { labels: l } : {}) },
      ...nest(path, spec, Math.min(depth, path.length)),
    } as KubeObject;
  });
const service = fc
  .record(
    {
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
      ports: fc.array(
        withProtocol(
          fc.record(
            { port: fc.integer({ min: 1, max: 65535 }), appProtocol: noise, name: noise },
            { requiredKeys: ['port'] },
          ),
        ),
        { maxLength: 3 },
      ),
      sessionAffinity: fc.constantFrom('None', 'ClientIP'),
    },
    { requiredKeys: [] },
  )
  .chain((spec) =>
    fc.record({
      spec: fc.option(fc.constant(spec), { nil: undefined }),
      annotations: fc.option(fc.constant({ 'nodeportlocal.antrea.io/enabled': 'true' }), { nil: undefined }),
    }),
  )
  .map(
    ({ spec, annotations }) =>
      ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's', ...(annotations ? { annotations } : {}) },
        ...(spec ? { spec } : {}),
      }) as KubeObject,
  );
const npRule = fc.record(
  { ports: fc.array(withProtocol(fc.record({ port: fc.integer({ min: 1, max: 65535 }) })), { maxLength: 2 }) },
  { requiredKeys: [] },
);
const networkPolicy = fc
  .record(
    { ingress: fc.array(npRule, { maxLength: 2 }), egress: fc.array(npRule, { maxLength: 2 }) },
    { requiredKeys: [] },
  )
  .map(
    (spec) =>
      ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec }) as KubeObject,
  );
const gateway = fc
  .array(
    fc.record({
      name: noise,
      port: fc.integer({ min: 1, max: 65535 }),
      protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', 'sctp', 'Sctp', 'ſctp', 'HTTP'),
      hostname: noise,
    }),
    { maxLength: 3 },
  )
  .map(
    (listeners) =>
      ({
        apiVersion: 'networking.x-k8s.io/v1alpha1',
        kind: 'Gateway',
        metadata: { name: 'g' },
        spec: { listeners },
      }) as KubeObject,
  );
// Owners and annotations the MCO writes (engine/platform-owned.ts) and some it does not.
const owner = fc.constantFrom(
  { apiVersion: 'machineconfiguration.openshift.io/v1', kind: 'MachineConfigPool', name: 'worker', controller: true },
  {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'ControllerConfig',
    name: 'machine-config-controller',
    controller: true,
  },
  { apiVersion: 'machineconfiguration.openshift.io/v1', kind: 'KubeletConfig', name: 'set-max-pods', controller: true },
  { apiVersion: 'config.openshift.io/v1', kind: 'Image' },
  { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gitops', controller: true },
);
const machineConfig = fc
  .record({
    name: fc.constantFrom('rendered-worker-0123', '00-worker', '99-worker-sctp'),
    owners: fc.option(fc.array(owner, { maxLength: 2 }), { nil: undefined }),
    generatedBy: fc.option(fc.constantFrom('', 'a1b2c3'), { nil: undefined }),
    version: fc.constantFrom('2.2.0', '3.2.0', '3.4.0', '3.5.0', '9.9.9'),
  })
  .map(
    ({ name, owners, generatedBy, version }) =>
      ({
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfig',
        metadata: {
          name,
          ...(owners ? { ownerReferences: owners } : {}),
          ...(generatedBy !== undefined
            ? { annotations: { 'machineconfiguration.openshift.io/generated-by-controller-version': generatedBy } }
            : {}),
        },
        spec: { config: { ignition: { version } } },
      }) as KubeObject,
  );

const anyObject = fc
  .oneof(workload, service, networkPolicy, gateway, machineConfig)
  .filter((o) => KIND_INFO.has(o.kind!));

/** Objects the match conditions built from `rules` filter out although a rule would act on them. */
function filteredButActedOn(rules: readonly Rule[], numRuns: number) {
  let filtered = 0;
  let sent = 0;
  const result = fc.check(
    fc.property(anyObject, namespace, (object, ns) => {
      const scopedNs = KIND_INFO.get(object.kind!)!.namespaced ? ns : '';
      const phases = sentToPhases(object, scopedNs, rules);
      if (phases.length === 0) {
        filtered++;
        return !rulesAct(rules, object, scopedNs);
      }
      sent++;
      return true;
    }),
    { numRuns, seed: 20261130 },
  );
  return { result, filtered, sent };
}

t.test(
  'property: an object the match conditions filter out is one no rule acts on, and CEL never errors',
  async (t) => {
    const { result, filtered, sent } = filteredButActedOn(ALL_RULES, 600);
    t.notOk(
      result.failed,
      result.failed ? `counterexample: ${JSON.stringify(result.counterexample)}` : 'no counterexample',
    );
    t.ok(filtered > 50 && sent > 50, `both sides exercised (filtered ${filtered}, sent ${sent})`);
  },
);

t.test('a rule whose declaration says less than it reads is caught by the property', async (t) => {
  const reads = (declared: boolean): Rule => ({
    id: 'host-network',
    description: 'reads spec.hostNetwork',
    phase: 'validate',
    defaultEnforcement: 'deny',
    // Drift: it declares the SCTP container ports, but its verdict depends on hostNetwork.
    matches: matchKinds(
      POD_KINDS,
      ['CREATE', 'UPDATE'],
      declared ? { sctpFields: [['podSpec', 'containers', '*', 'ports', '*', 'protocol']] } : {},
    ),
    evaluate: ({ object }) =>
      podSpecOf(object)?.hostNetwork === true ? advisory({ text: 'host network.', summary: 'host network' }) : pass(),
  });
  t.ok(filteredButActedOn([...ALL_RULES, reads(true)], 600).result.failed, 'the wrong declaration is found');
  t.notOk(
    filteredButActedOn([...ALL_RULES, reads(false)], 300).result.failed,
    'without sctpFields every Pod is sent, and the property holds',
  );
});

t.test('the documentation manifests that carry SCTP are all sent; the others are filtered out', async (t) => {
  const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));
  for (const file of files) {
    for (const object of exampleObjects(file)) {
      if (!KIND_INFO.has(object.kind ?? '')) continue;
      const carries = /\bSCTP\b/.test(JSON.stringify(object));
      const ns = KIND_INFO.get(object.kind!)!.namespaced ? (object.metadata?.namespace ?? 'default') : '';
      const phases = sentToPhases(object, ns);
      if (carries || object.kind === 'MachineConfig')
        t.ok(phases.length > 0, `${file}: ${object.kind} ${object.metadata?.name} is sent`);
      else t.same(phases, [], `${file}: ${object.kind} ${object.metadata?.name} without SCTP is not`);
    }
  }
});

t.test(
  'a Gateway listener says sctp in any case, as the Gateway API admits it: sent, and denied as check denies it',
  async (t) => {
    const hook = hookOf('validate');
    const engine = new Engine(ALL_RULES, defaultPolicy());
    for (const [group, version] of [
      ['gateway.networking.k8s.io', 'v1'],
      ['networking.x-k8s.io', 'v1alpha1'],
    ] as const) {
      for (const protocol of ['SCTP', 'sctp', 'Sctp']) {
        const object = {
          apiVersion: `${group}/${version}`,
          kind: 'Gateway',
          metadata: { name: 'g', namespace: 'telco' },
          spec: { gatewayClassName: 'c', listeners: [{ name: 'l', port: 38412, protocol }] },
        } as KubeObject;
        const request = { kind: { group, version, kind: 'Gateway' }, namespace: 'telco', operation: 'CREATE' };
        t.ok(
          conditionsPass(hook, { request, object, oldObject: null }),
          `${group}: protocol ${protocol} reaches the webhook`,
        );
        const d = engine.evaluate(
          {
            object,
            oldObject: null,
            operation: 'CREATE',
            gvk: { group, version, kind: 'Gateway' },
            namespace: 'telco',
            dryRun: false,
          },
          EMPTY_SNAPSHOT,
          'validate',
        );
        t.notOk(d.allowed, `${group}: protocol ${protocol} is denied by the engine`);
      }
      const tcp = {
        kind: 'Gateway',
        metadata: { name: 'g' },
        spec: { listeners: [{ name: 'l', port: 80, protocol: 'tcp' }] },
      };
      t.notOk(
        conditionsPass(hook, {
          request: { kind: { group, version, kind: 'Gateway' }, namespace: 'telco', operation: 'CREATE' },
          object: tcp,
          oldObject: null,
        }),
        'tcp is not',
      );
    }
    // Built-in kinds keep the exact comparison: the API server has refused any other spelling before validation.
    const service = hook.matchConditions.find((c: any) => c.name === 'service-carries-sctp').expression as string;
    t.notMatch(service, /upperAscii/);
    t.match(
      hook.matchConditions.find((c: any) => c.name === 'gateway-carries-sctp').expression,
      /x0\.protocol\.upperAscii\(\) == 'SCTP'/,
    );
  },
);

t.test('CEL on DELETE: object is null, conditions hold without error', async (t) => {
  for (const phase of PHASES) {
    const hook = hookOf(phase);
    for (const kind of KIND_INFO.keys()) {
      const info = KIND_INFO.get(kind)!;
      const request = {
        kind: { group: info.group, version: info.version, kind },
        namespace: 'default',
        operation: 'DELETE',
      };
      t.doesNotThrow(
        () => conditionsPass(hook, { request, object: null, oldObject: { kind, metadata: { name: 'x' } } }),
        `${phase} ${kind}`,
      );
    }
  }
});
