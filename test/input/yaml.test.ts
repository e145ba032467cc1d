import t from 'tap';
import { parseYamlDocuments, YamlSyntaxError } from '../../src/input/yaml.js';

t.test('YAML 1.1 as kubectl reads it: octal modes, multi-doc, empty documents skipped', async (t) => {
  const docs = parseYamlDocuments('a: 1\n---\n---\nmode: 0644\nlist:\n  - x\n', 'f.yaml');
  t.equal(docs.length, 2);
  t.same(docs[1]!.value, { mode: 420, list: ['x'] });
  t.equal(docs[1]!.line, 4);
  t.equal(docs[1]!.lineOf('/list/0'), 6);
});

t.test('JSON takes the fast path and still finds lines when asked', async (t) => {
  const text = '{\n  "kind": "List",\n  "items": [\n    {"kind": "Node",\n     "metadata": {"name": "n"}}\n  ]\n}\n';
  const [doc] = parseYamlDocuments(text, 'state.json');
  t.same(doc!.value, JSON.parse(text));
  t.equal(doc!.lineOf('/items/0/metadata'), 5);
  t.same(parseYamlDocuments('{a: 1}', 'flow.yaml')[0]!.value, { a: 1 }, 'YAML flow style that is not JSON');
  t.throws(() => parseYamlDocuments('{"a": [1,\n', 'bad.json'), YamlSyntaxError);
  t.same(parseYamlDocuments('null', 'n.json'), []);
});

t.test('tags and scalars as kubectl decodes them (sigs.k8s.io/yaml through go-yaml v2)', async (t) => {
  const [doc] = parseYamlDocuments(
    'protocol: !!binary U0NUUA==\nblock: !!binary |\n  U0NU\n  UA==\ndate: 2024-01-01\ntime: 12:30\nlocal: !foo bar\nmode: 0644\nset: !!set {a, b}\n',
    'tags.yaml',
  );
  t.same(doc!.value, {
    protocol: 'SCTP',
    block: 'SCTP',
    date: '2024-01-01',
    time: '12:30',
    local: 'bar',
    mode: 420,
    set: { a: null, b: null },
  });
  t.throws(() => parseYamlDocuments('protocol: !!binary S*TP\n', 'bad.yaml'), {
    name: 'YamlSyntaxError',
    line: 1,
    reason: /invalid base64/,
  });
});
