import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseManifests, readManifests, STDIN_NAME } from '../../src/cli/manifests.js';

const FIXTURES = new URL('../fixtures/check/', import.meta.url).pathname;

t.test('YAML 1.1 as kubectl reads it: anchors, aliases, merge keys, octal modes, empty documents', async (t) => {
  const { objects, problems } = readManifests([join(FIXTURES, 'yaml-edge-cases.yaml')]);
  t.same(problems, []);
  t.same(objects.map((o) => [o.object.kind, o.object.metadata?.name, o.line]), [['Service', 'lb-sctp', 6], ['MachineConfig', '99-octal-mode', 25]]);
  const svc = objects[0]!.object as { spec: { selector: unknown; ports: unknown[] } };
  t.same(svc.spec.selector, { app: 'edge' }, 'alias resolved');
  t.same(svc.spec.ports[1], { name: 'sigtran-2', protocol: 'SCTP', port: 2906 }, 'merge key resolved, local keys win');
  const files = (objects[1]!.object as { spec: { config: { storage: { files: Array<{ mode: number }> } } } }).spec.config.storage.files;
  t.equal(files[0]!.mode, 420, '0644 is octal in YAML 1.1');
});

t.test('a document that is not a Kubernetes object is a problem with its line; the others are still read', async (t) => {
  const { objects, problems } = readManifests([join(FIXTURES, 'not-kubernetes.yaml')]);
  t.same(objects.map((o) => o.object.metadata?.name), ['fine']);
  t.same(problems, [{ file: join(FIXTURES, 'not-kubernetes.yaml'), line: 12, message: 'not a Kubernetes object: apiVersion and kind are missing (every object needs apiVersion and kind)' }]);

  const odd = parseManifests('- a\n- b\n---\njust a string\n---\napiVersion: v1\nmetadata: {name: x}\n', 'odd.yaml');
  t.same(odd.problems.map((p) => [p.line, p.message]), [
    [1, 'not a Kubernetes object: expected a mapping with apiVersion and kind, found a sequence'],
    [4, 'not a Kubernetes object: expected a mapping with apiVersion and kind, found the string "just a string"'],
    [6, 'not a Kubernetes object: kind is missing (every object needs apiVersion and kind)'],
  ]);
});

t.test('spec indented under metadata is named as such, at the line of the stray key', async (t) => {
  const { objects, problems } = readManifests([join(FIXTURES, 'networkpolicy-misindented.yaml')]);
  t.same(objects, []);
  t.equal(problems.length, 1);
  t.equal(problems[0]!.line, 8);
  t.match(problems[0]!.message, /^NetworkPolicy sctp-demo-allow: "spec" is indented under metadata; it belongs at the top level/);
  t.match(problems[0]!.message, /unknown field "metadata\.spec"/);
});

t.test('metadata mistakes the API server would reject', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['apiVersion: v1\nkind: Service\nspec: {}\n', 1, /metadata is missing/],
    ['apiVersion: v1\nkind: Service\nmetadata: [a]\n', 3, /metadata must be a mapping/],
    ['apiVersion: v1\nkind: Service\nmetadata:\n  labels: {a: b}\n', 3, /metadata\.name is missing/],
    ['apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namspace: x\n', 5, /unknown field "namspace"/],
    ['apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: n\n', 5, /metadata\.namespace is the boolean false, not a string/],
    ['apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels:\n    version: 1.0\n', 6, /metadata\.labels\["version"\] is the number 1, not a string.*Fix: put the value in quotes/],
  ];
  for (const [text, line, message] of cases) {
    const { objects, problems } = parseManifests(text, 'm.yaml');
    t.same(objects, [], text);
    t.equal(problems[0]?.line, line, text);
    t.match(problems[0]?.message, message, text);
  }
  t.same(parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: job-\n', 'g.yaml').problems, [], 'generateName is a name');
});

t.test('List kinds: a kind: List, and a typed list whose items carry no apiVersion/kind', async (t) => {
  const list = readManifests([join(FIXTURES, 'service-list.json')]);
  t.same(list.problems, []);
  t.same(list.objects.map((o) => [o.object.metadata?.name, o.line]), [['list-lb', 5], ['list-nodeport', 11]]);

  const typed = parseManifests('apiVersion: v1\nkind: ServiceList\nitems:\n  - metadata: {name: a, namespace: ns}\n  - metadata: {name: b, namespace: ns}\n', 'typed.yaml');
  t.same(typed.objects.map((o) => [o.object.apiVersion, o.object.kind, o.object.metadata?.name, o.line]), [['v1', 'Service', 'a', 4], ['v1', 'Service', 'b', 5]]);
  t.match(parseManifests('apiVersion: v1\nkind: List\nitems: {}\n', 'l.yaml').problems[0], { line: 3, message: /items must be a sequence/ });
  t.match(parseManifests('apiVersion: v1\nkind: List\nitems:\n  - metadata: {name: a}\n', 'l.yaml').problems[0], { line: 4, message: /apiVersion and kind are missing/ });
});

t.test('YAML syntax errors name the line', async (t) => {
  const { objects, problems } = readManifests([join(FIXTURES, 'syntax-error.yaml')]);
  t.same(objects, []);
  t.match(problems, [{ line: 8, message: /^YAML syntax error: / }]);
});

t.test('folders recurse into *.yaml, *.yml and *.json in name order; stdin; missing paths', async (t) => {
  const tree = readManifests([join(FIXTURES, 'tree')]);
  t.same(tree.files.map((f) => f.slice(FIXTURES.length)), ['tree/a-service.yaml', 'tree/sub/b-service.yml', 'tree/sub/c-gateway.json']);
  t.same(tree.objects.map((o) => o.object.metadata?.name), ['tree-a', 'tree-b', 'tree-gw']);

  const stdin = readManifests(['-'], () => 'apiVersion: v1\nkind: Service\nmetadata: {name: from-stdin}\n');
  t.same(stdin.objects.map((o) => [o.file, o.line, o.object.metadata?.name]), [[STDIN_NAME, 1, 'from-stdin']]);

  const missing = readManifests([join(FIXTURES, 'nope.yaml')]);
  t.match(missing.problems, [{ line: 0, message: 'cannot read: ENOENT' }]);

  t.match(readManifests(['-'], () => '---\n# nothing\n').problems, [{ message: 'no Kubernetes objects in the input' }]);

  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-manifests-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'a', 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: once}\n');
  symlinkSync(dir, join(dir, 'a', 'loop'));
  const looped = readManifests([dir]);
  t.same(looped.objects.map((o) => o.object.metadata?.name), ['once'], 'a symlink loop is walked once');
  t.match(readManifests([join(dir, 'a', 'loop', 'a', 'loop', 'a')]).objects.length, 1);
  const empty = mkdtempSync(join(tmpdir(), 'sctp-guard-empty-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  t.match(readManifests([empty]).problems, [{ line: 0, message: /folder holds no \*\.yaml/ }]);
});
