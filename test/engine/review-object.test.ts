import t from 'tap';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { gvkOf, namespaceOf } from '../../src/engine/request.js';
import { reviewObject } from '../../src/engine/review-object.js';
import type { KubeObject, Rule, RuleInput } from '../../src/engine/types.js';
import { advisory, edited, pass, violation } from '../../src/engine/verdict.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { exampleObject } from '../helpers/admission.js';

const SERVICE = [
  {
    group: '',
    versions: ['v1'],
    kinds: [{ kind: 'Service', resource: 'services' }],
    operations: ['CREATE' as const, 'UPDATE' as const],
  },
];

function rule(
  id: string,
  phase: Rule['phase'],
  evaluate: Rule['evaluate'],
  defaultEnforcement: Rule['defaultEnforcement'] = 'deny',
): Rule {
  return { id, description: id, phase, defaultEnforcement, matches: SERVICE, evaluate };
}

const svc = (): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's' },
  spec: { ports: [{ port: 80, protocol: 'SCTP' }] },
});

// A mutating rule that labels the Service, and a validating rule that denies an unlabelled one: the validating phase
// must see the patched object, as the API server runs it.
const labeller = rule('labeller', 'mutate', ({ object }) =>
  object?.metadata?.labels?.sctp ? pass() : edited((o) => void (o.metadata!.labels = { sctp: 'yes' })),
);
const needsLabel = rule('needs-label', 'validate', ({ object }: RuleInput) =>
  object?.metadata?.labels?.sctp ? pass() : violation({ text: 'unlabelled.', summary: 'unlabelled' }),
);

t.test('the validating phase sees the object after the mutating patch, and the review returns it', async (t) => {
  const original = svc();
  const review = reviewObject(new Engine([labeller, needsLabel], defaultPolicy()), EMPTY_SNAPSHOT, original);
  t.equal(review.allowed, true);
  t.same(review.object.metadata?.labels, { sctp: 'yes' });
  t.same(review.patch, [{ op: 'add', path: '/metadata/labels', value: { sctp: 'yes' } }]);
  t.same(review.patchedBy, ['labeller']);
  t.same(review.findings, []);
  t.equal(original.metadata?.labels, undefined, 'the input object is left untouched');

  const withoutMutation = reviewObject(new Engine([needsLabel], defaultPolicy()), EMPTY_SNAPSHOT, svc());
  t.equal(withoutMutation.allowed, false);
  t.same(withoutMutation.findings, [
    {
      rule: 'needs-label',
      phase: 'validate',
      decision: 'deny',
      message: '[needs-label] Service default/s: unlabelled.',
      detail: 'unlabelled.',
    },
  ]);
});

t.test('a denial in the mutating phase ends the review before the validating phase', async (t) => {
  let validated = false;
  const denyMutate = rule('deny-mutate', 'mutate', () => violation({ text: 'no.', summary: 'no' }));
  const spy = rule('spy', 'validate', () => {
    validated = true;
    return pass();
  });
  const review = reviewObject(new Engine([denyMutate, spy], defaultPolicy()), EMPTY_SNAPSHOT, svc());
  t.equal(review.allowed, false);
  t.equal(validated, false);
  t.same(
    review.findings.map((f) => [f.rule, f.phase, f.decision]),
    [['deny-mutate', 'mutate', 'deny']],
  );
  t.same(review.patch, []);
});

t.test('patches that do not apply together are an error that denies, naming the rules', async (t) => {
  // Each rule's patch is computed against the object as sent; two edits of the same field cannot both apply.
  const drop = rule('drop', 'mutate', () => edited((o) => void delete (o.spec as { ports?: unknown }).ports));
  const renumber = rule('renumber', 'mutate', () =>
    edited((o) => void ((o.spec as { ports: Array<{ port: number }> }).ports[0]!.port = 81)),
  );
  const review = reviewObject(new Engine([drop, renumber], defaultPolicy()), EMPTY_SNAPSHOT, svc());
  t.equal(review.allowed, false);
  t.equal(review.findings.length, 1);
  t.equal(review.findings[0]!.decision, 'error');
  t.match(review.findings[0]!.message, /^\[drop, renumber\] Service default\/s: the mutation does not apply/);
  // fast-json-patch's reason, as the engine found it when it applied the rules' patches in order.
  t.match(review.findings[0]!.detail, /^the mutation does not apply to the object \([^)]*path[^)]*\)\. Report/i);
  t.notMatch(review.findings[0]!.detail, /undefined/);
});

t.test('warnings, audit-only findings and advisories are collected from both phases', async (t) => {
  const warnMutate = rule(
    'warn-mutate',
    'mutate',
    () => violation({ text: 'long text.', summary: 'short text' }),
    'warn',
  );
  const auditOnly = rule('audit-only', 'validate', () => violation({ text: 'logged.', summary: 'logged' }), 'audit');
  const adv = rule('adv', 'validate', () => advisory({ text: 'heads up.', summary: 'heads up' }));
  const review = reviewObject(new Engine([warnMutate, auditOnly, adv], defaultPolicy()), EMPTY_SNAPSHOT, svc());
  t.equal(review.allowed, true);
  t.same(
    review.findings.map((f) => [f.rule, f.phase, f.decision, f.message]),
    [
      ['warn-mutate', 'mutate', 'warn', '[warn-mutate] Service default/s: long text.'],
      ['audit-only', 'validate', 'audit', '[audit-only] Service default/s: logged.'],
      ['adv', 'validate', 'warn', '[adv] Service default/s: heads up.'],
    ],
  );
  t.same(review.warnings, ['[warn-mutate] Service default/s: short text', '[adv] Service default/s: heads up']);
});

t.test('the real rules: the documentation manifests fare as they do at admission', async (t) => {
  const engine = new Engine(ALL_RULES, defaultPolicy());
  const lb = reviewObject(engine, EMPTY_SNAPSHOT, exampleObject('ako-sctp-loadbalancer.yaml', 'Service'));
  t.equal(lb.allowed, false);
  t.same(
    lb.findings.filter((f) => f.decision === 'deny').map((f) => f.rule),
    ['sctp-service-type'],
  );
  const ako = reviewObject(
    new Engine(ALL_RULES, defaultPolicy('ako')),
    EMPTY_SNAPSHOT,
    exampleObject('ako-sctp-loadbalancer.yaml', 'Service'),
  );
  t.equal(ako.allowed, true);
  const skipped = reviewObject(engine, EMPTY_SNAPSHOT, exampleObject('ako-sctp-gateway.yaml', 'GatewayClass'));
  t.equal(skipped.allowed, true);
  t.match(skipped.skipped, /GatewayClass/);
  const excluded = reviewObject(engine, EMPTY_SNAPSHOT, {
    ...svc(),
    metadata: { name: 's', namespace: 'openshift-sctp' },
    spec: { type: 'LoadBalancer', ports: [{ port: 1, protocol: 'SCTP' }] },
  });
  t.equal(excluded.allowed, true);
  t.match(excluded.skipped, /excluded/);
});

t.test('request fields: group/version from apiVersion, namespace as kubectl would send it', async (t) => {
  t.same(gvkOf({ apiVersion: 'apps/v1', kind: 'Deployment' }), { group: 'apps', version: 'v1', kind: 'Deployment' });
  t.same(gvkOf({ apiVersion: 'v1', kind: 'Service' }), { group: '', version: 'v1', kind: 'Service' });
  t.same(gvkOf({ apiVersion: 'machineconfiguration.openshift.io/v1', kind: 'MachineConfig' }), {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    kind: 'MachineConfig',
  });
  t.equal(namespaceOf({ kind: 'Service', metadata: { name: 'a' } }), 'default');
  t.equal(namespaceOf({ kind: 'Service', metadata: { name: 'a', namespace: 'x' } }), 'x');
  t.equal(namespaceOf({ kind: 'MachineConfig', metadata: { name: 'a' } }), '');
  const review = reviewObject(
    new Engine(ALL_RULES, defaultPolicy()),
    EMPTY_SNAPSHOT,
    exampleObject('ako-sctp-loadbalancer.yaml', 'Deployment'),
  );
  t.equal(review.request.namespace, 'default');
  t.equal(review.request.operation, 'CREATE');
  t.equal(review.request.dryRun, false);
});
