import t from 'tap';
import { Ajv } from 'ajv';
import { describeSchemaError, mostSpecificError, type SchemaWording } from '../../src/util/schema-errors.js';

// Real ajv errors from a small schema: one grammar, worded as each reader words it.
const validate = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true }).compile({
  type: 'object',
  additionalProperties: false,
  required: ['uid'],
  properties: {
    uid: { type: 'string' },
    mode: { enum: ['a', 'b'] },
    url: { type: 'string', pattern: '^data:', description: 'a data URL' },
    label: {
      anyOf: [{ type: 'null' }, { type: 'object', required: ['key'], properties: { key: { type: 'string' } } }],
    },
  },
});
const errorsOf = (value: unknown) => (validate(value) ? [] : validate.errors!);
const plain: SchemaWording = {
  field: (p) => p || 'the body',
  separator: ' ',
  values: 'bare',
  types: 'plain',
  required: { scope: '' },
};

t.test('an unknown field is pointed at itself, escaped; the wording says how it is named', async (t) => {
  const [e] = errorsOf({ uid: 'u', 'a/b': 1 });
  t.same(describeSchemaError(e!, plain), { pointer: '/a~1b', message: '/a~1b unknown field "a/b"' });
  t.same(describeSchemaError(e!, { ...plain, unknown: { scope: 'Ignition 3.2.0' } }), {
    pointer: '/a~1b',
    message: '/a~1b is not a field of Ignition 3.2.0',
  });
});

t.test('each keyword names the expected value', async (t) => {
  const one = (value: unknown, wording: SchemaWording = plain) => describeSchemaError(errorsOf(value)[0]!, wording);
  t.equal(one({}).message, '/uid is required');
  t.equal(one({}, { ...plain, required: undefined }).message, "the body must have required property 'uid'");
  t.equal(one({ uid: 1 }).message, '/uid must be string');
  t.equal(one({ uid: 1 }, { ...plain, types: 'article' }).message, '/uid must be a string');
  t.equal(one({ uid: 'u', mode: 'c' }).message, '/mode must be one of a, b');
  t.equal(one({ uid: 'u', mode: 'c' }, { ...plain, values: 'colon' }).message, '/mode must be one of: a, b');
  t.equal(one({ uid: 'u', mode: 'c' }, { ...plain, values: 'json' }).message, '/mode must be one of "a", "b"');
  t.equal(one({ uid: 'u', url: 'ftp:' }).message, '/url must match ^data:');
  t.equal(
    one({ uid: 'u', url: 'ftp:' }, { ...plain, describeValue: true }).message,
    '/url must be a data URL (got "ftp:")',
  );
});

t.test('within an anyOf, the branch that got furthest; else the branches as one type', async (t) => {
  const article = { ...plain, types: 'article', required: undefined } as const;
  t.equal(
    describeSchemaError(mostSpecificError(errorsOf({ uid: 'u', label: 5 })), article).message,
    '/label must be null or a mapping',
  );
  t.equal(
    describeSchemaError(mostSpecificError(errorsOf({ uid: 'u', label: {} })), article).message,
    "/label must have required property 'key'",
  );
});
