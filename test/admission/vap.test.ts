import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from '@bufbuild/cel';
import { validatingAdmissionPolicies, type VapPair } from '../../src/admission/vap.js';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { engineRequest } from '../../src/engine/request.js';
import type { KubeObject, Operation, Rule } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { Policy } from '../../src/policy/types.js';
import { ALL_RULES, RULE_IDS } from '../../src/rules/index.js';
import { ENFORCEMENTS } from '../../src/policy/schema.js';
import { kindInfo, KINDS, POD_KINDS, type KindInfo } from '../../src/util/kinds.js';
import { exampleSctpPortName } from '../fixtures/rules/example-sctp-port-name.js';
import { loadCorpus } from '../corpus/corpus.js';
import { exampleObjects, EXAMPLES_DIR } from '../helpers/admission.js';
import { schemaErrors } from '../helpers/k8s-schema.js';
import { evaluatePair, type AdmissionInput } from '../helpers/vap-eval.js';

// Every rule with CEL, and the test-only rule of docs/adding-a-rule.md (pod kinds): a new rule cannot escape the check.
const RULES: readonly Rule[] = [...ALL_RULES, exampleSctpPortName];
const STATELESS: Rule[] = RULES.filter((r) => r.cel !== undefined);

/** Each stateless rule under each enforcement, the rules shifted against each other (derived from the rule list). */
const rotations = Object.fromEntries(
  ENFORCEMENTS.map((_, k) => [
    `rotation-${k}`,
    {
      ...defaultPolicy(),
      rules: Object.fromEntries(
        STATELESS.map((r, i) => [r.id, { enforcement: ENFORCEMENTS[(i + k) % ENFORCEMENTS.length]! }]),
      ),
    },
  ]),
) as Record<string, Policy>;

/** Policies that exercise every branch the CEL bakes in: presets, enforcement, NPL mode, exclusions. */
const POLICIES: Record<string, Policy> = {
  default: defaultPolicy(),
  ako: defaultPolicy('ako'),
  strict: {
    ...defaultPolicy(),
    allowedServiceTypes: [],
    akoNodePortLocal: true,
    // The test-only rule's parameter: port names with and without the prefix are generated.
    sctpPortNamePrefix: 's',
    excludedNamespaces: ['team-*', "it's"],
  },
  ...rotations,
  audit: {
    ...defaultPolicy('ako'),
    allowedServiceTypes: ['LoadBalancer', 'ExternalName'],
    rules: { 'sctp-service-type': { enforcement: 'audit' }, 'nodeportlocal-sctp': { enforcement: 'off' } },
  },
};
const PAIRS = Object.fromEntries(
  Object.entries(POLICIES).map(([k, p]) => [k, validatingAdmissionPolicies(RULES, p)]),
) as Record<string, VapPair[]>;
const ENGINES = Object.fromEntries(Object.entries(POLICIES).map(([k, p]) => [k, new Engine(STATELESS, p)])) as Record<
  string,
  Engine
>;

const groupVersion = (o: KubeObject): [string, string] =>
  o.apiVersion?.includes('/') ? (o.apiVersion.split('/', 2) as [string, string]) : ['', o.apiVersion ?? ''];

/** The request's kind and resource, from the object's apiVersion and the kinds registry. */
function requestKind(object: KubeObject): { group: string; version: string; kind: string; resource: string } {
  const [group, version] = groupVersion(object);
  const info = kindInfo(group, object.kind!);
  if (!info) throw new Error(`no kind ${object.apiVersion} ${object.kind}`);
  return { group, version, kind: object.kind!, resource: info.resource };
}
const STATELESS_KINDS = new Set(
  STATELESS.flatMap((r) => r.matches.flatMap((m) => m.kinds.map((k) => `${m.group}/${k.kind}`))),
);
const readByStateless = (o: KubeObject) => STATELESS_KINDS.has(`${groupVersion(o)[0]}/${o.kind}`);

interface Said {
  allowed: boolean;
  denials: string[];
  warnings: string[];
  audits: string[];
}

/** What the webhook's engine says: denial texts, kubectl warnings, audit-only messages. */
function engineSays(
  name: string,
  object: KubeObject,
  oldObject: KubeObject | null,
  operation: Operation,
  namespace: string,
): Said {
  const { group, version, kind } = requestKind(object);
  const gvk = { group, version, kind };
  const d = ENGINES[name]!.evaluate(
    engineRequest({ object, oldObject, operation, gvk, namespace }),
    EMPTY_SNAPSHOT,
    'validate',
  );
  const errors = d.results.filter((r) => r.decision === 'error');
  if (errors.length > 0) throw new Error(`a rule failed: ${errors[0]!.findings[0]?.message}`);
  return {
    allowed: d.allowed,
    denials: d.results
      .filter((r) => r.decision === 'deny')
      .flatMap((r) => r.findings.map((f) => f.message))
      .sort(),
    warnings: [...d.warnings].sort(),
    audits: d.results
      .filter((r) => r.decision === 'audit')
      .flatMap((r) => r.findings.map((f) => f.message))
      .sort(),
  };
}

/** What the API server says with the generated policies (a Deny of any binding rejects the request). */
function vapSays(
  name: string,
  object: KubeObject,
  oldObject: KubeObject | null,
  operation: Operation,
  namespace: string,
): Said {
  const { resource, ...kind } = requestKind(object);
  const input: AdmissionInput = { request: { kind, resource, namespace, operation }, object, oldObject };
  const out: Said = { allowed: true, denials: [], warnings: [], audits: [] };
  for (const pair of PAIRS[name]!) {
    const r = evaluatePair(pair, input);
    if (!r) continue;
    if (r.action === 'Deny') out.denials.push(r.message);
    else if (r.action === 'Warn') out.warnings.push(r.message);
    else out.audits.push(r.message);
  }
  out.allowed = out.denials.length === 0;
  for (const k of ['denials', 'warnings', 'audits'] as const) out[k].sort();
  return out;
}

// ---- generated objects: what the API server lets reach admission (validated Service ports, DNS names) ----
const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/);
const name = fc.oneof(
  { weight: 4, arbitrary: dnsLabel },
  {
    weight: 1,
    arbitrary: fc.constant(
      'a-very-long-service-name-that-pushes-the-warning-past-the-one-hundred-and-twenty-character-limit',
    ),
  },
);
const namespace = fc.constantFrom(
  'default',
  'telco',
  'kube-system',
  'openshift-monitoring',
  'sctp-guard',
  'team-a',
  "it's",
);
const servicePort = fc.record(
  { name: dnsLabel, port: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('TCP', 'UDP', 'SCTP') },
  { requiredKeys: ['port'] },
);
const nplValue = fc.constantFrom('true', 'true', 'true', 'True', 'TRUE', 'false', 'yes', '');
// Antrea acts only on Services with a non-empty selector.
const selector = fc.option(fc.constantFrom({}, { app: 'sctp' }, { app: 'sctp', tier: 'core' }), { nil: undefined });
const service = fc
  .record({
    name,
    generate: fc.boolean(),
    type: fc.option(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'), { nil: undefined }),
    ports: fc.option(fc.array(servicePort, { maxLength: 4 }), { nil: undefined }),
    npl: fc.option(nplValue, { nil: undefined }),
    selector,
    other: fc.boolean(),
  })
  .map(({ name, generate, type, ports, npl, selector, other }) => {
    const annotations = {
      ...(npl !== undefined ? { 'nodeportlocal.antrea.io/enabled': npl } : {}),
      ...(other ? { 'example.com/x': 'y' } : {}),
    };
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        ...(generate ? { generateName: `${name}-` } : { name }),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      spec: { ...(type ? { type } : {}), ...(ports ? { ports } : {}), ...(selector ? { selector } : {}) },
    } as KubeObject;
  });
const listener = fc.record(
  {
    name: dnsLabel,
    port: fc.integer({ min: 1, max: 65535 }),
    protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', 'sctp', 'ſctp', 'HTTP', 'TLS'),
  },
  { requiredKeys: ['port', 'protocol'] },
);
/** Any version the registry lists for the kind. */
const apiVersionOf = (info: KindInfo) =>
  fc.constantFrom(...info.versions.map((v) => (info.group ? `${info.group}/${v}` : v)));
const gateway = (info: KindInfo) =>
  fc
    .record({
      name,
      apiVersion: apiVersionOf(info),
      listeners: fc.option(fc.array(listener, { maxLength: 3 }), { nil: undefined }),
    })
    .map(
      ({ name, apiVersion, listeners }) =>
        ({
          apiVersion,
          kind: info.kind,
          metadata: { name },
          spec: { gatewayClassName: 'avi-lb', ...(listeners ? { listeners } : {}) },
        }) as KubeObject,
    );
const containerPort = fc.record(
  {
    name: fc.oneof(dnsLabel, fc.constant('')),
    containerPort: fc.integer({ min: 1, max: 65535 }),
    hostPort: fc.integer({ min: 1, max: 65535 }),
    protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', 'sctp', 'ſctp'),
  },
  { requiredKeys: ['containerPort'] },
);
const container = fc.record(
  { name: dnsLabel, image: fc.constant('registry.example/app:1'), ports: fc.array(containerPort, { maxLength: 3 }) },
  { requiredKeys: ['name', 'image'] },
);
/** A Pod or pod controller with the pod spec where the kinds registry says it is (podSpecPath). */
const podObject = (info: KindInfo) =>
  fc
    .record({
      name,
      apiVersion: apiVersionOf(info),
      containers: fc.array(container, { minLength: 1, maxLength: 2 }),
      initContainers: fc.option(fc.array(container, { maxLength: 1 }), { nil: undefined }),
    })
    .map(({ name, apiVersion, containers, initContainers }) => {
      const podSpec: Record<string, unknown> = { containers, ...(initContainers ? { initContainers } : {}) };
      const spec = info.podSpecPath!.slice(1).reduceRight<unknown>((inner, key) => ({ [key]: inner }), podSpec);
      return { apiVersion, kind: info.kind, metadata: { name }, spec } as KubeObject;
    });

/** The generator of each kind a rule may match, keyed `group/kind` as the registry names it. */
function generatorFor(info: KindInfo): fc.Arbitrary<KubeObject> | undefined {
  if (info.podSpecPath) return podObject(info);
  if (info === KINDS.Service) return service;
  if (info === KINDS.Gateway || info === KINDS.ServiceApisGateway) return gateway(info);
  return undefined;
}
/** The registry entries of the kinds a rule matches. */
const kindsOf = (rule: Rule): KindInfo[] => rule.matches.flatMap((m) => m.kinds.map((k) => kindInfo(m.group, k.kind)!));

/** The namespace the API server sets on the object before admission. */
const inNamespace = (o: KubeObject, ns: string): KubeObject => ({ ...o, metadata: { ...o.metadata, namespace: ns } });

function agree(
  t: Test,
  policyName: string,
  object: KubeObject,
  oldObject: KubeObject | null,
  operation: Operation,
  ns: string,
): boolean {
  const obj = inNamespace(object, ns);
  const old = oldObject ? inNamespace(oldObject, ns) : null;
  const engine = engineSays(policyName, obj, old, operation, ns);
  const vap = vapSays(policyName, obj, old, operation, ns);
  if (JSON.stringify(engine) === JSON.stringify(vap)) return true;
  t.same(vap, engine, `${policyName}: ${operation} ${JSON.stringify(obj)}${old ? ` old ${JSON.stringify(old)}` : ''}`);
  return false;
}

t.test('every kind a stateless rule matches is in the kinds registry and has a generator', async (t) => {
  for (const rule of STATELESS) {
    for (const m of rule.matches)
      for (const k of m.kinds)
        t.ok(kindInfo(m.group, k.kind) && generatorFor(kindInfo(m.group, k.kind)!), `${rule.id}: ${m.group}/${k.kind}`);
  }
  t.ok(
    STATELESS.some((r) => r.id === exampleSctpPortName.id),
    'the test-only pod rule is among them',
  );
});

t.test('every expression parses and uses only functions of the Kubernetes CEL environment', async (t) => {
  // Kubernetes base environment: CEL standard library and macros, strings extension v2 (k8s.io/apiserver pkg/cel/environment/base.go).
  const K8S_FUNCTIONS = new Set([
    'has',
    'size',
    'string',
    'filter',
    'map',
    'exists',
    'all',
    'upperAscii',
    'lowerAscii',
    'join',
    'substring',
    'startsWith',
  ]);
  for (const [policyName, pairs] of Object.entries(PAIRS)) {
    for (const { policy } of pairs) {
      const spec = policy.spec!;
      const expressions = [
        ...(spec.matchConditions ?? []).map((c) => c.expression),
        ...spec.variables!.map((v) => v.expression),
        ...spec.validations!.flatMap((v) => [v.expression, v.messageExpression!]),
      ];
      for (const e of expressions) {
        t.doesNotThrow(() => parse(e), `${policyName} ${policy.metadata!.name}: parses`);
        const calls = [...e.replace(/'(?:[^'\\]|\\.)*'/g, "''").matchAll(/([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]!);
        for (const c of calls)
          t.ok(K8S_FUNCTIONS.has(c), `${policy.metadata!.name}: ${c}() is in the Kubernetes CEL environment`);
      }
    }
  }
});

t.test(
  'policy shape: one policy and binding per check; actions from the enforcement; exclusions in matchResources',
  async (t) => {
    const shipped = new Set(RULE_IDS);
    const names = (k: string) =>
      PAIRS[k]!.filter((p) => shipped.has(p.rule)).map((p) => `${p.policy.metadata!.name}:${p.action}`);
    t.same(names('default'), [
      'sctp-guard-sctp-service-type:Deny',
      'sctp-guard-sctp-service-type-existing:Warn',
      'sctp-guard-sctp-gateway-listener:Deny',
      'sctp-guard-sctp-gateway-listener-existing:Warn',
      'sctp-guard-nodeportlocal-sctp:Warn',
      'sctp-guard-nodeportlocal-sctp-existing:Warn',
    ]);
    t.same(
      names('ako'),
      [
        'sctp-guard-sctp-service-type:Deny',
        'sctp-guard-sctp-service-type-existing:Warn',
        'sctp-guard-nodeportlocal-sctp:Warn',
        'sctp-guard-nodeportlocal-sctp-existing:Warn',
      ],
      'ako: SCTP Gateways allowed, nothing to enforce',
    );
    t.same(
      names('audit'),
      ['sctp-guard-sctp-service-type:Audit', 'sctp-guard-sctp-service-type-existing:Audit'],
      'enforcement off: no policy',
    );
    for (const p of PAIRS.default!) {
      t.equal(p.binding.spec!.policyName, p.policy.metadata!.name);
      t.same(p.binding.spec!.matchResources!.namespaceSelector, {
        matchExpressions: [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['kube-public', 'kube-system', 'sctp-guard'],
          },
        ],
      });
      t.same(p.policy.spec!.matchConditions, [
        { name: 'namespace-not-excluded', expression: "!request.namespace.startsWith('openshift-')" },
      ]);
    }
  },
);

t.test('every object of the documentation examples: the VAPs say what the engine says', async (t) => {
  let checked = 0;
  for (const file of readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'))) {
    for (const object of exampleObjects(file)) {
      if (!readByStateless(object)) continue;
      const ns = object.metadata?.namespace ?? 'default';
      for (const policyName of Object.keys(POLICIES)) {
        t.ok(
          agree(t, policyName, object, null, 'CREATE', ns),
          `${file} ${object.kind} ${object.metadata?.name} under ${policyName}`,
        );
        t.ok(agree(t, policyName, object, object, 'UPDATE', ns), `${file}: an unchanged UPDATE`);
        checked++;
      }
    }
  }
  t.ok(checked >= 15, `${checked} example objects checked`);
  // The examples include denials, so agreement is not agreement on "allow".
  const lb = exampleObjects('ako-sctp-loadbalancer.yaml').find((o) => o.kind === 'Service')!;
  t.equal(vapSays('default', inNamespace(lb, 'default'), null, 'CREATE', 'default').denials.length, 1);
});

t.test(
  'every object of the upstream corpus that a stateless rule reads (test/corpus): the VAPs say what the engine says',
  async (t) => {
    const items = loadCorpus().filter((i) => readByStateless(i.object));
    let annotated = 0;
    for (const item of items) {
      const ns = item.object.metadata?.namespace ?? 'default';
      for (const policyName of Object.keys(POLICIES)) {
        t.ok(
          agree(t, policyName, item.object, item.oldObject ?? null, item.operation, ns),
          `${item.file} (${item.operation}) under ${policyName}`,
        );
        if (item.operation === 'CREATE')
          t.ok(agree(t, policyName, item.object, item.object, 'UPDATE', ns), `${item.file}: an unchanged UPDATE`);
      }
      if (
        vapSays(
          'default',
          inNamespace(item.object, ns),
          item.oldObject ? inNamespace(item.oldObject, ns) : null,
          item.operation,
          ns,
        ).warnings.some((w) => w.startsWith('[nodeportlocal-sctp]'))
      )
        annotated++;
    }
    const files = items.map((i) => i.file);
    t.ok(
      files.some((f) => f.startsWith('gateway-api/')) &&
        files.some((f) => f.startsWith('antrea/')) &&
        items.length >= 25,
      `${items.length} corpus items`,
    );
    // Antrea's cases where NPL acts and where it does not (NodePort, no selector, "True", "false"): not all silent.
    t.ok(
      annotated >= 3 && annotated < items.filter((i) => i.file.startsWith('antrea/')).length,
      `${annotated} corpus items warned by nodeportlocal-sctp`,
    );
  },
);

t.test(
  'property: on thousands of generated objects, CREATE and UPDATE, the VAPs say exactly what the engine says',
  async (t) => {
    const policyName = fc.constantFrom(...Object.keys(POLICIES));
    // A rule, then a kind it matches: every rule gets its share, whatever the number of kinds it reads.
    const anyObject = fc.oneof(...STATELESS.map((r) => fc.oneof(...kindsOf(r).map((k) => generatorFor(k)!))));
    const op = fc.constantFrom<Operation>('CREATE', 'UPDATE');
    let denied = 0;
    let warned = 0;
    let audited = 0;
    let nplActs = 0;
    const podKinds = new Set<string>();
    fc.assert(
      fc.property(
        policyName,
        anyObject,
        fc.option(anyObject, { nil: null }),
        op,
        namespace,
        (p, object, old, operation, ns) => {
          const oldObject =
            operation === 'UPDATE' &&
            old &&
            old.kind === object.kind &&
            groupVersion(old)[0] === groupVersion(object)[0]
              ? old
              : null;
          const said = vapSays(
            p,
            inNamespace(object, ns),
            oldObject ? inNamespace(oldObject, ns) : null,
            operation,
            ns,
          );
          denied += said.denials.length;
          warned += said.warnings.length;
          audited += said.audits.length;
          // Without akoNodePortLocal the rule speaks only where Antrea acts ("true", a selector, not NodePort/ExternalName).
          if (!POLICIES[p]!.akoNodePortLocal)
            nplActs += [...said.denials, ...said.warnings].filter((m) => m.startsWith('[nodeportlocal-sctp]')).length;
          if (
            [...said.denials, ...said.warnings, ...said.audits].some((m) => m.startsWith(`[${exampleSctpPortName.id}]`))
          )
            podKinds.add(object.kind!);
          return agree(t, p, object, oldObject, operation === 'UPDATE' && !oldObject ? 'CREATE' : operation, ns);
        },
      ),
      { numRuns: 3000 },
    );
    t.ok(
      denied > 100 && warned > 50 && audited > 50,
      `every outcome exercised (denied ${denied}, warned ${warned}, audited ${audited})`,
    );
    t.ok(nplActs > 5, `${nplActs} NodePortLocal findings on Services Antrea acts on`);
    t.ok(podKinds.size === POD_KINDS.length, `every pod kind generated (${[...podKinds].join(', ')})`);
  },
);

t.test('the update ratchet: an existing SCTP Service of a refused type is warned, a new problem denied', async (t) => {
  const svc = (type: string) =>
    ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'telco' },
      spec: { type, ports: [{ port: 80, protocol: 'SCTP' }] },
    }) as KubeObject;
  const kept = vapSays('default', svc('LoadBalancer'), svc('LoadBalancer'), 'UPDATE', 'telco');
  t.same(kept.denials, []);
  t.same(kept.warnings, [
    '[sctp-service-type] Service telco/s: existing SCTP Service of type LoadBalancer is outside the allowed types',
  ]);
  t.equal(vapSays('default', svc('LoadBalancer'), svc('NodePort'), 'UPDATE', 'telco').denials.length, 1);
});

t.test('the output validates against the Kubernetes API schemas', async (t) => {
  for (const [policyName, pairs] of Object.entries(PAIRS)) {
    for (const { policy, binding } of pairs) {
      t.same(await schemaErrors(policy), [], `${policyName}: ${policy.metadata!.name}`);
      t.same(await schemaErrors(binding), [], `${policyName}: binding ${binding.metadata!.name}`);
    }
  }
  const broken = structuredClone(PAIRS.default![0]!.binding) as any;
  broken.spec.validationActions = ['Block'];
  t.not((await schemaErrors(broken)).length, 0, 'the schema check can fail');
});

t.test('VAP mode: the webhook skips exactly the rules the policies enforce', async (t) => {
  const { rulesForWebhook } = await import('../../src/admission/webhook-config.js');
  const { parsePolicy } = await import('../../src/policy/load.js');
  const vapMode = parsePolicy('statelessRules: vap\n', 'policy.yaml', { rules: ALL_RULES });
  t.equal(vapMode.statelessRules, 'vap');
  t.equal(defaultPolicy().statelessRules, 'webhook', 'the webhook enforces every rule by default');
  t.throws(() => parsePolicy('statelessRules: api-server\n', 'policy.yaml', { rules: ALL_RULES }), /statelessRules/);
  t.same(
    rulesForWebhook(ALL_RULES, vapMode).map((r) => r.id),
    ALL_RULES.filter((r) => !STATELESS.includes(r)).map((r) => r.id),
  );
  t.same(rulesForWebhook(ALL_RULES, defaultPolicy()), ALL_RULES);
  const lb = inNamespace(
    exampleObjects('ako-sctp-loadbalancer.yaml').find((o) => o.kind === 'Service')!,
    'default',
  );
  const webhook = new Engine(rulesForWebhook(ALL_RULES, vapMode), vapMode);
  const d = webhook.evaluate(engineRequest({ object: lb }), EMPTY_SNAPSHOT, 'validate');
  t.notOk(
    d.results.some((r) => r.rule === 'sctp-service-type'),
    'the webhook leaves the Service type to the VAP',
  );
  t.equal(vapSays('default', lb, null, 'CREATE', 'default').denials.length, 1, 'which denies it');
});
