import t from 'tap';
import { stringify } from 'yaml';
import {
  ChunkedLines,
  JsonListSplitter,
  MAX_OBJECT_BYTES,
  ObjectTooLargeError,
  YamlListSplitter,
} from '../../src/input/list-stream.js';
import { FIELDS_READ, isWatchedKind } from '../../src/cluster/records.js';
import { parseYamlDocuments } from '../../src/input/yaml.js';
import { scenario } from '../fixtures/cluster/builders.js';

type Piece = { item?: string; key?: string; text: string; line: number };

function collect(): {
  pieces: Piece[];
  sink: { item(text: string, line: number): void; field(key: string | undefined, text: string, line: number): void };
} {
  const pieces: Piece[] = [];
  return {
    pieces,
    sink: {
      item: (text, line) => pieces.push({ item: 'item', text, line }),
      field: (key, text, line) => pieces.push({ key, text, line }),
    },
  };
}

/** Feeds `text` in chunks of `size` characters: every boundary a stream can cut at. */
function splitJson(text: string, size: number): Piece[] {
  const { pieces, sink } = collect();
  const splitter = new JsonListSplitter(sink);
  for (let i = 0; i < text.length; i += size) splitter.push(text.slice(i, i + size));
  splitter.end();
  return pieces;
}

// A JSON round trip: the fixtures share sub-objects, which YAML would print as anchors and aliases.
const objects = () => {
  const s = scenario();
  return JSON.parse(JSON.stringify([...s.machineConfigs, ...s.pools, ...s.nodes])) as Array<Record<string, unknown>>;
};

t.test('JSON: each item of a List whole, other fields apart, whatever the chunk boundaries', async (t) => {
  const items = objects();
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    metadata: { resourceVersion: '42', continue: 'abc' },
    items: [...items, { tricky: 'a "quoted" \\ } ] { [ string', n: [1, 2.5e3, -0, true, null] }],
  };
  for (const text of [JSON.stringify(list), JSON.stringify(list, null, 4)]) {
    for (const size of [1, 7, 4096, text.length]) {
      const pieces = splitJson(text, size);
      const got = pieces.filter((p) => p.item).map((p) => JSON.parse(p.text));
      t.same(got, list.items, `items, chunks of ${size}`);
      const fields = Object.fromEntries(pieces.filter((p) => !p.item).map((p) => [p.key, JSON.parse(p.text)]));
      t.same(fields, { apiVersion: 'v1', kind: 'List', metadata: list.metadata }, `fields, chunks of ${size}`);
    }
  }
  const pretty = JSON.stringify(list, null, 2);
  const first = splitJson(pretty, 100).find((p) => p.item)!;
  t.equal(pretty.split('\n')[first.line - 1]!.trim(), '{', 'the line an item starts on');
});

t.test('JSON: not a List, scalars, empty lists; cut-short input is an error', async (t) => {
  t.same(
    splitJson('{"kind":"Node","metadata":{"name":"a"},"items":[]}', 3).map((p) => [p.key, p.text]),
    [
      ['kind', '"Node"'],
      ['metadata', '{"name":"a"}'],
    ],
  );
  t.same(
    splitJson(' [1, 2] ', 2).map((p) => [p.key, p.text]),
    [[undefined, '[1, 2]']],
  );
  t.same(
    splitJson('42', 1).map((p) => p.text),
    ['42'],
  );
  t.same(
    splitJson('{"a": 1, "b": "x", "c": true}', 2).map((p) => [p.key, p.text]),
    [
      ['a', '1'],
      ['b', '"x"'],
      ['c', 'true'],
    ],
  );
  t.throws(() => splitJson('{"items": [{"a": 1}, {"b": ', 5), /unexpected end of JSON input/);
});

t.test('JSON: one object above the limit is an error naming its line, before it is read whole', async (t) => {
  const { sink } = collect();
  const splitter = new JsonListSplitter(sink);
  splitter.push('{"items": [\n{"data": "');
  const chunk = 'x'.repeat(2 ** 20);
  t.throws(() => {
    for (let i = 0; i <= MAX_OBJECT_BYTES / chunk.length + 1; i++) splitter.push(chunk);
  }, new ObjectTooLargeError(2));
});

function splitYaml(text: string): Piece[] {
  const { pieces, sink } = collect();
  const splitter = new YamlListSplitter(sink, (kind) => (isWatchedKind(kind) ? FIELDS_READ[kind] : undefined));
  for (const line of text.split('\n')) splitter.pushLine(line);
  splitter.end();
  return pieces;
}

t.test(
  'YAML: a List as kubectl prints it (items at column 0 or indented) gives each item; a Node without its status',
  async (t) => {
    const items = objects();
    const expected = items
      .map((o) => (o.kind === 'Node' ? { ...o, status: undefined } : o))
      .map((o) => JSON.parse(JSON.stringify(o)));
    const flat = `apiVersion: v1\nitems:\n${items
      .map((o) =>
        stringify(o)
          .replace(/^(?=.)/gm, '  ')
          .replace(/^ {2}/, '- '),
      )
      .join('')}kind: List\nmetadata:\n  resourceVersion: ""\n`;
    const indented = stringify({ apiVersion: 'v1', kind: 'List', items });
    for (const [name, text] of [
      ['kubectl style', flat],
      ['indented', indented],
    ] as const) {
      const pieces = splitYaml(text);
      const got = pieces.filter((p) => p.item).map((p) => parseYamlDocuments(p.text, 'x')[0]!.value);
      t.same(got, expected, `${name}: items`);
      const header = pieces.filter((p) => !p.item).map((p) => parseYamlDocuments(p.text, 'x')[0]!.value);
      t.match(header, [{ apiVersion: 'v1', kind: 'List' }], `${name}: the document around them`);
      t.notOk(header[0] && 'items' in (header[0] as object), `${name}: without the items`);
      const lines = text.split('\n');
      for (const p of pieces.filter((x) => x.item))
        t.match(lines[p.line - 1], /^ *- /, `${name}: an item starts on its own line (${p.line})`);
    }
  },
);

t.test('YAML: multi-document streams, plain objects, other kinds dropped, comments and blank lines', async (t) => {
  const text = [
    '# cluster dump',
    'apiVersion: v1',
    'kind: Node',
    'metadata: {name: a}',
    '---',
    'apiVersion: v1',
    'kind: List',
    'items:',
    '',
    '- apiVersion: v1',
    '  kind: Service',
    '  metadata: {name: s}',
    '- apiVersion: v1',
    '  kind: Node',
    '  # a comment',
    '  metadata:',
    '    name: b',
    '',
    '    labels: {x: z}',
    '  status:',
    '    images: []',
    '...',
    '- just',
    '- a list',
  ].join('\n');
  const pieces = splitYaml(text);
  t.same(
    pieces.map((p) => [p.item ? 'item' : 'doc', p.line, parseYamlDocuments(p.text, 'x')[0]?.value]),
    [
      ['doc', 2, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'a' } }],
      ['item', 13, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'b', labels: { x: 'z' } } }],
      ['doc', 6, { apiVersion: 'v1', kind: 'List' }],
      ['doc', 23, ['just', 'a list']],
    ],
  );
});

t.test(
  'lines from chunks: each whole in the pieces it came in, the rest kept, a line past the bound refused',
  async (t) => {
    const seen: string[][] = [];
    const lines = new ChunkedLines(10, () => {
      throw new Error('too long');
    });
    for (const chunk of ['ab', 'c\nde', 'f\n\ng', 'h']) lines.push(chunk, (parts) => seen.push(parts));
    t.same(seen, [['ab', 'c'], ['de', 'f'], ['']]);
    t.same(lines.rest(), ['g', 'h'], 'the last line, not ended');
    lines.push('\n', () => {});
    t.throws(() => lines.push('0123456789x', () => t.fail('no line ended')), { message: 'too long' });
    const fresh = new ChunkedLines(10, () => {
      throw new Error('too long');
    });
    fresh.push('0123456789\n01234', () => {});
    t.throws(
      () => fresh.push('56789x', () => {}),
      { message: 'too long' },
      'counted across chunks, from the line start',
    );
  },
);
