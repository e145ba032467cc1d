import t from 'tap';
import { parsePolicy } from '../../src/policy/load.js';
import { policyValidator, ruleParameters } from '../../src/policy/parameters.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { PRESET_NAMES } from '../../src/policy/schema.js';
import { ALL_RULES } from '../../src/rules/index.js';

t.test('every default and every preset value is valid under the fragment that declares it', async (t) => {
  const validate = policyValidator(ALL_RULES);
  for (const rule of ALL_RULES.filter((r) => r.parameters)) {
    const { schemas, presets } = rule.parameters!;
    const defaults = Object.fromEntries(Object.entries(schemas).map(([f, s]) => [f, s.default]));
    t.ok(validate(defaults), `${rule.id} defaults`);
    for (const [preset, values] of Object.entries(presets)) {
      t.ok(PRESET_NAMES.includes(preset as never), `${rule.id}: ${preset} is a preset`);
      t.ok(validate({ preset, ...values }), `${rule.id} under ${preset}`);
      t.ok(
        Object.keys(values!).every((f) => Object.hasOwn(schemas, f)),
        `${rule.id}: ${preset} sets only declared fields`,
      );
    }
  }
});

t.test("a rule's fragment is a field of the policy file, validated with a line", async (t) => {
  t.same(parsePolicy('allowSctpGateways: true\n', 'p.yaml', { rules: ALL_RULES }).allowSctpGateways, true);
  t.throws(() => parsePolicy('allowSctpGateways: true\n', 'p.yaml', { rules: [] }), {
    message: /p\.yaml:1: policy field \/allowSctpGateways: unknown field "allowSctpGateways"/,
  });
});

t.test('one field, one declaration: a second one, or a shared setting redeclared, is refused', async (t) => {
  const twice = ruleParameters({ allowSctpGateways: { type: 'boolean', default: false } });
  t.throws(
    () => policyValidator([...ALL_RULES, { id: 'x', parameters: twice }]),
    /allowSctpGateways is declared twice/,
  );
  const shared = ruleParameters({ failureMode: { type: 'string', default: 'closed' } });
  t.throws(() => policyValidator([{ id: 'x', parameters: shared }]), /failureMode is declared twice/);
});

t.test("a rule reads its values typed: the policy's own, else its preset's, else the default", async (t) => {
  const p = ruleParameters(
    { n: { type: 'integer', default: 1 }, s: { type: 'string', default: 'a' } },
    { ako: { n: 2 } },
  );
  t.same(p.of(defaultPolicy()), { n: 1, s: 'a' });
  t.same(p.of(defaultPolicy('ako')), { n: 2, s: 'a' });
  t.same(p.of({ ...defaultPolicy('ako'), n: 3 }), { n: 3, s: 'a' });
  t.same(p.preset('ako'), { n: 2, s: 'a' });
  const n: number = p.of(defaultPolicy()).n;
  t.equal(n, 1);
});
