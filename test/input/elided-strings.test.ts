import t from 'tap';
import fc from 'fast-check';
import {
  ELIDE_MIN_CHARS,
  elideLongStrings,
  parseElided,
  type ElidedStrings,
  type JsonPath,
} from '../../src/input/elided-strings.js';

/** `text` cut at the given fractions of its length (sorted, deduplicated): the chunks a stream may hand over. */
function cut(text: string, at: readonly number[]): string[] {
  const points = [...new Set(at.map((f) => Math.floor(f * text.length)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) parts.push(text.slice(from, p));
    from = Math.max(from, p);
  }
  parts.push(text.slice(from));
  return parts;
}

/** Parsed and put back with no second try: parseElided's fallback to the whole text would hide a wrong cut. */
function putBack(text: string, elided: ElidedStrings | undefined): unknown {
  return elided ? elided.restore(JSON.parse(text)) : JSON.parse(text);
}

// Strings that stress the scan: quotes, backslashes and escapes that a cut may split, non-Latin-1 text.
const tricky = fc.string({
  unit: fc.constantFrom('a', '"', '\\', '\n', '\u0000', '→', ':', ' ', '{', '}', '\u2028', 'é'),
  maxLength: 40,
});
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(tricky, tie('value'), { maxKeys: 5 }),
  ),
})).value;

t.test('what is left out and put back parses to what JSON.parse gives, however the text is cut', async (t) => {
  fc.assert(
    fc.property(
      json,
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
      fc.integer({ min: 2, max: 12 }),
      fc.constantFrom('', ' ', '\n  '),
      (value, at, minChars, space) => {
        const text = JSON.stringify({ object: value }, null, space);
        const { text: shorter, elided } = elideLongStrings(cut(text, at), minChars);
        t.strictSame(putBack(shorter, elided), JSON.parse(text));
      },
    ),
    { numRuns: 3000 },
  );
});

t.test('every cut of a text of escapes: in a string, at a backslash, between a key and its value', async (t) => {
  const text = JSON.stringify({ a: 'q\\"x\\\\"', 'k\\': ['\\\\', 'z"\\'], b: { c: '"\\u00e9→\\\\n' }, d: '\\' });
  const expected = JSON.parse(text) as unknown;
  for (let i = 0; i <= text.length; i++)
    for (const j of [i, i + 1, i + 2]) {
      const parts = [text.slice(0, i), text.slice(i, j), text.slice(j)].filter((p) => p !== '');
      const { text: shorter, elided } = elideLongStrings(parts, 3);
      if (JSON.stringify(putBack(shorter, elided)) !== JSON.stringify(expected))
        t.fail(`cut at ${i} and ${j}: ${JSON.stringify(parts)}`);
    }
  t.pass('all cuts');
});

t.test('member values are left out; keys, array elements and short strings stay in the text', async (t) => {
  const long = 'x'.repeat(ELIDE_MIN_CHARS);
  const text = JSON.stringify({ [long]: 1, a: [long], b: long, c: 'short' });
  const { text: shorter, elided } = elideLongStrings([text.slice(0, 700), text.slice(700)]);
  t.equal(elided?.size, 1, 'only the value of b');
  t.ok(shorter.length < text.length - ELIDE_MIN_CHARS + 100);
  t.match(shorter, `"${long}":1`);
  t.match(shorter, `"a":["${long}"]`);
  t.match(shorter, '"c":"short"');
});

t.test('a long value under a __proto__ key is put back into the own property JSON.parse makes of it', async (t) => {
  const text = `{"__proto__":"${'p'.repeat(2000)}","a":{"__proto__":"${'q'.repeat(2000)}"}}`;
  const { text: shorter, elided } = elideLongStrings([text.slice(0, 1000), text.slice(1000)]);
  t.equal(elided?.size, 2);
  const value = putBack(shorter, elided);
  t.strictSame(value, JSON.parse(text));
  t.equal(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, 'p'.repeat(2000));
  t.equal(Object.getPrototypeOf(value), Object.prototype);
});

t.test('what the reader never reads may stay out; read gives it back as it was sent', async (t) => {
  const payload = `data:,${'%22'.repeat(500)}"\\→`;
  const text = JSON.stringify({ files: [{ contents: { source: payload }, path: '/etc/a' }], other: payload });
  const seen: JsonPath[] = [];
  const { text: shorter, elided } = elideLongStrings([text.slice(0, 100), text.slice(100)], 100);
  const value = parseElided(shorter, elided, (object, path, read) => {
    seen.push(path);
    const files = (object as { files: Array<{ path: string }> }).files;
    t.equal(read(files[0]!.path), '/etc/a', 'read gives any value of the object');
    return path.join('.') === 'files.0.contents.source';
  }) as { files: Array<{ contents: { source: string } }>; other: string };
  t.same(seen.map((p) => p.join('.')).sort(), ['files.0.contents.source', 'other'], 'asked about each one left out');
  t.equal(value.other, payload, 'put back');
  t.not(value.files[0]!.contents.source, payload, 'left out');
  t.match(value.files[0]!.contents.source, /^\u0000elided:/);
});

t.test('nothing long: the text as it came; cut short or malformed: the error of the whole text', async (t) => {
  t.same(elideLongStrings(['{"a":', '"b"}']), { text: '{"a":"b"}' });
  const long = 'y'.repeat(2000);
  const open = elideLongStrings(['{"a":"', long], 100);
  t.equal(open.elided, undefined, 'a text that ends inside a string is returned whole');
  t.equal(open.text, `{"a":"${long}`);
  const broken = `{"a":"${long}", "b": tru}`;
  const { text, elided } = elideLongStrings([broken.slice(0, 50), broken.slice(50)], 100);
  t.ok(elided);
  let expected = '';
  try {
    JSON.parse(broken);
  } catch (err) {
    expected = (err as Error).message;
  }
  t.throws(() => parseElided(text, elided), { name: 'SyntaxError', message: expected });
});

t.test('a string of escapes is read once, not once per escape', async (t) => {
  // Searching the whole part again for every escape would be 64 Ki searches of 16 Ki characters per part.
  const escapes = '\\"'.repeat(512 * 1024);
  const text = `{"a":"${escapes}","b":1}`;
  const parts = cut(
    text,
    Array.from({ length: 64 }, (_, i) => i / 64),
  );
  const { text: shorter, elided } = elideLongStrings(parts);
  t.equal(elided?.size, 1);
  t.same(putBack(shorter, elided), JSON.parse(text));
});
