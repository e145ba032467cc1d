import t from 'tap';
import fc from 'fast-check';
import { cloneJson, countJsonContainers } from '../../src/util/json.js';

t.test('cloneJson copies any JSON value deeply, as structuredClone does', async (t) => {
  // One assertion for the whole property (fast-check reports the smallest counterexample), so that the count of
  // tests does not depend on the values drawn.
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = cloneJson(value);
        if (JSON.stringify(copy) !== JSON.stringify(structuredClone(value))) throw new Error('copy differs');
        if (typeof value === 'object' && value !== null && copy === value) throw new Error('same container');
      }),
      { numRuns: 300 },
    ),
  );
  const nested = { a: { b: [{ c: 1 }] } };
  const copy = cloneJson(nested);
  copy.a.b[0]!.c = 2;
  t.equal(nested.a.b[0]!.c, 1, 'editing the copy leaves the original');
});

t.test('cloneJson keeps a __proto__ key as data and copies what is not plain JSON with structuredClone', async (t) => {
  const parsed = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
  const copy = cloneJson(parsed);
  t.ok(Object.hasOwn(copy, '__proto__'), 'an own property');
  t.equal(Object.getPrototypeOf(copy), Object.prototype, 'the prototype is untouched');
  t.equal((copy as { polluted?: boolean }).polluted, undefined);
  t.same(JSON.stringify(copy), JSON.stringify(parsed));
  const when = new Date('2026-12-07T00:00:00Z');
  const withDate = cloneJson({ created: when });
  t.ok(withDate.created instanceof Date);
  t.equal(withDate.created.getTime(), when.getTime());
  t.not(withDate.created, when);
});

t.test('countJsonContainers counts objects and arrays outside strings, up to the limit + 1', async (t) => {
  t.equal(countJsonContainers('{"a":[1,{"b":"{["}]}', 100), 3);
  t.equal(countJsonContainers('"\\"{"', 100), 0, 'an escaped quote does not end the string');
  t.equal(countJsonContainers('[{},{},{},{}]', 2), 3, 'stops past the limit');
});
