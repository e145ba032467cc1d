import t from 'tap';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine, evaluateRule, type EngineRequest } from '../../src/engine/engine.js';
import { engineRequest } from '../../src/engine/request.js';
import type { KubeObject, Operation, Rule, RuleInput } from '../../src/engine/types.js';
import { edited, pass, violation } from '../../src/engine/verdict.js';
import { defaultPolicy } from '../../src/policy/presets.js';

// A rule that fails on every Service whose spec.color is red: the finding is about /spec/color.
const calls: Array<{ operation: Operation; color: unknown; oldObject: boolean }> = [];
function colorRule(extra: Partial<Rule> = {}): Rule {
  return {
    id: 'no-red',
    description: 'no red Services',
    phase: 'validate',
    defaultEnforcement: 'deny',
    matches: [
      {
        group: '',
        versions: ['v1'],
        kinds: [{ kind: 'Service', resource: 'services' }],
        operations: ['CREATE', 'UPDATE', 'DELETE'],
      },
    ],
    evaluate({ object, oldObject, operation }: RuleInput) {
      const color =
        (object?.spec as { color?: unknown } | undefined)?.color ??
        (oldObject?.spec as { color?: unknown } | undefined)?.color;
      calls.push({ operation, color, oldObject: oldObject !== null });
      if (color !== 'red') return pass();
      return violation({
        text: 'the Service is red.',
        fix: 'paint it blue',
        summary: 'red Service',
        path: '/spec/color',
      });
    },
    ...extra,
  };
}

const svc = (color: string, label = 'a'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's', namespace: 'app', labels: { label } },
  spec: { color },
});
const request = (object: KubeObject | null, oldObject: KubeObject | null, operation: Operation): EngineRequest =>
  engineRequest({ object, oldObject, operation });
const decide = (rule: Rule, req: EngineRequest, phase: 'validate' | 'mutate' = 'validate') =>
  new Engine([rule], defaultPolicy()).evaluate(req, EMPTY_SNAPSHOT, phase);

t.beforeEach(() => {
  calls.length = 0;
});

t.test(
  'a problem oldObject already has is softened to a warning; the old object is judged as if created',
  async (t) => {
    const d = decide(colorRule(), request(svc('red', 'b'), svc('red'), 'UPDATE'));
    t.equal(d.allowed, true);
    t.same(d.warnings, ['[no-red] Service app/s: red Service']);
    t.match(d.results, [
      { rule: 'no-red', decision: 'warn', findings: [{ detail: 'the Service is red. Fix: paint it blue.' }] },
    ]);
    t.same(calls, [
      { operation: 'UPDATE', color: 'red', oldObject: true },
      { operation: 'CREATE', color: 'red', oldObject: false },
    ]);
  },
);

t.test('a problem the update introduces is denied, and so is one on a changed field', async (t) => {
  t.equal(decide(colorRule(), request(svc('red'), svc('blue'), 'UPDATE')).allowed, false, 'the old object passes');
  // Same summary, different value at the path: the field changed, as Kubernetes' ratcheting compares it.
  const shade = colorRule({
    evaluate: ({ object }) =>
      object?.spec ? violation({ text: 'bad shade.', summary: 'bad shade', path: '/spec/color' }) : pass(),
  });
  t.equal(decide(shade, request(svc('red'), svc('crimson'), 'UPDATE')).allowed, false);
  t.equal(decide(shade, request(svc('red', 'b'), svc('red'), 'UPDATE')).allowed, true);
});

t.test('a rule key and an existing-problem summary override the defaults', async (t) => {
  const keyed = colorRule({
    evaluate: ({ object }) =>
      violation({
        text: 'bad.',
        summary: `bad ${String((object?.spec as { color: string }).color)}`,
        ratchetKey: 'any colour',
        existingSummary: 'existing bad colour',
      }),
  });
  const d = decide(keyed, request(svc('red'), svc('crimson'), 'UPDATE'));
  t.equal(d.allowed, true, 'the key, not the summary, says it is the same problem');
  t.same(d.warnings, ['[no-red] Service app/s: existing bad colour']);
});

t.test('CREATE and DELETE are never ratcheted, and the old object is not judged', async (t) => {
  t.equal(decide(colorRule(), request(svc('red'), null, 'CREATE')).allowed, false);
  t.equal(decide(colorRule(), request(null, svc('red'), 'DELETE')).allowed, false);
  t.equal(calls.length, 2, 'one evaluation each');
  decide(colorRule(), request(svc('blue'), svc('red'), 'UPDATE'));
  t.equal(calls.length, 3, 'an UPDATE without a violation costs one evaluation');
});

t.test('a rule that throws on the old object leaves the violation standing', async (t) => {
  const fragile = colorRule({
    evaluate: ({ object }) => {
      if ((object?.spec as { color: string }).color === 'crimson') throw new Error('cannot read crimson');
      return violation({ text: 'bad.', summary: 'bad', ratchetKey: 'bad' });
    },
  });
  t.equal(decide(fragile, request(svc('red'), svc('crimson'), 'UPDATE')).allowed, false);
});

t.test('a mutating rule keeps its patch when its problem is softened', async (t) => {
  const rewrite = colorRule({
    phase: 'mutate',
    evaluate: ({ object }) =>
      edited(
        (o) => void ((o.spec as { color: string }).color = 'blue'),
        (object?.spec as { color: string }).color === 'red'
          ? violation({ text: 'red.', summary: 'red', path: '/spec/color' }).findings
          : [],
      ),
  });
  const d = decide(rewrite, request(svc('red', 'b'), svc('red'), 'UPDATE'), 'mutate');
  t.equal(d.allowed, true);
  t.same(d.patch, [{ op: 'replace', path: '/spec/color', value: 'blue' }]);
  const single = evaluateRule(rewrite, {
    ...request(svc('red', 'b'), svc('red'), 'UPDATE'),
    snapshot: EMPTY_SNAPSHOT,
    policy: defaultPolicy(),
  });
  t.match(single.findings, [{ severity: 'advisory', summary: '[no-red] Service app/s: red' }]);
});
