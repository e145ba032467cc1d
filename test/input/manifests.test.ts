import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { STDIN_NAME } from '../../src/input/files.js';
import { parseManifestText, readManifests, type Manifests } from '../../src/input/manifests.js';
import { repoPath } from '../helpers/repo.js';

const FIXTURES = `${repoPath('test/fixtures/check')}/`;

/** One text through the reader, as a file of `check` is. */
function parseManifests(text: string, file: string): Pick<Manifests, 'objects' | 'problems' | 'notices'> {
  const out: Pick<Manifests, 'objects' | 'problems' | 'notices'> = { objects: [], problems: [], notices: [] };
  parseManifestText(out, text, file);
  return out;
}

t.test('YAML 1.1 as kubectl reads it: anchors, aliases, merge keys, octal modes, empty documents', async (t) => {
  const { objects, problems } = await readManifests([join(FIXTURES, 'yaml-edge-cases.yaml')]);
  t.same(problems, []);
  t.same(
    objects.map((o) => [o.object.kind, o.object.metadata?.name, o.line]),
    [
      ['Service', 'lb-sctp', 6],
      ['MachineConfig', '99-octal-mode', 25],
    ],
  );
  const svc = objects[0]!.object as unknown as { spec: { selector: unknown; ports: unknown[] } };
  t.same(svc.spec.selector, { app: 'edge' }, 'alias resolved');
  t.same(svc.spec.ports[1], { name: 'sigtran-2', protocol: 'SCTP', port: 2906 }, 'merge key resolved, local keys win');
  const files = (objects[1]!.object as unknown as { spec: { config: { storage: { files: Array<{ mode: number }> } } } })
    .spec.config.storage.files;
  t.equal(files[0]!.mode, 420, '0644 is octal in YAML 1.1');
});

t.test(
  'a document that is not a Kubernetes object is skipped with a notice at its line; a malformed object is a problem',
  async (t) => {
    const { objects, problems, notices } = await readManifests([join(FIXTURES, 'not-kubernetes.yaml')]);
    t.same(
      objects.map((o) => o.object.metadata?.name),
      ['fine'],
    );
    t.same(problems, []);
    t.same(notices, [
      {
        file: join(FIXTURES, 'not-kubernetes.yaml'),
        line: 12,
        message: 'skipped: not a Kubernetes object (no apiVersion and kind)',
        class: 'not an object',
      },
    ]);

    const odd = parseManifests(
      '- a\n- b\n---\njust a string\n---\napiVersion: v1\nmetadata: {name: x}\n---\nkind: Service\nmetadata: {name: y}\n',
      'odd.yaml',
    );
    t.same(
      odd.notices.map((n) => [n.line, n.message]),
      [
        [1, 'skipped: not a Kubernetes object (a sequence, not a mapping with apiVersion and kind)'],
        [4, 'skipped: not a Kubernetes object (a string, not a mapping with apiVersion and kind)'],
      ],
    );
    t.same(
      odd.problems.map((p) => [p.line, p.message]),
      [
        [6, 'not a Kubernetes object: kind is missing (every object needs apiVersion and kind)'],
        [9, 'not a Kubernetes object: apiVersion is missing (every object needs apiVersion and kind)'],
      ],
      'a document with metadata or a kind is an object that is malformed',
    );
  },
);

t.test('spec indented under metadata is named as such, at the line of the stray key', async (t) => {
  const { objects, problems } = await readManifests([join(FIXTURES, 'networkpolicy-misindented.yaml')]);
  t.same(objects, []);
  t.equal(problems.length, 1);
  t.equal(problems[0]!.line, 8);
  t.match(
    problems[0]!.message,
    /^NetworkPolicy sctp-demo-allow: "spec" is indented under metadata; it belongs at the top level/,
  );
  t.match(problems[0]!.message, /unknown field "metadata\.spec"/);
});

t.test('metadata mistakes the API server would reject', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['apiVersion: v1\nkind: Service\nspec: {}\n', 1, /metadata is missing/],
    ['apiVersion: v1\nkind: Service\nmetadata: [a]\n', 3, /metadata must be a mapping/],
    ['apiVersion: v1\nkind: Service\nmetadata:\n  labels: {a: b}\n', 3, /metadata\.name is missing/],
    ['apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namspace: x\n', 5, /unknown field "namspace"/],
    [
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: n\n',
      5,
      /metadata\.namespace is the boolean false, not a string/,
    ],
    [
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels:\n    version: 1.0\n',
      6,
      /metadata\.labels\["version"\] is the number 1, not a string.*Fix: put the value in quotes/,
    ],
  ];
  for (const [text, line, message] of cases) {
    const { objects, problems } = parseManifests(text, 'm.yaml');
    t.same(objects, [], text);
    t.equal(problems[0]?.line, line, text);
    t.match(problems[0]?.message, message, text);
  }
  t.same(
    parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: job-\n', 'g.yaml').problems,
    [],
    'generateName is a name',
  );
});

t.test('List kinds: a kind: List, and a typed list whose items carry no apiVersion/kind', async (t) => {
  const list = await readManifests([join(FIXTURES, 'service-list.json')]);
  t.same(list.problems, []);
  t.same(
    list.objects.map((o) => [o.object.metadata?.name, o.line]),
    [
      ['list-lb', 5],
      ['list-nodeport', 11],
    ],
  );

  const typed = parseManifests(
    'apiVersion: v1\nkind: ServiceList\nitems:\n  - metadata: {name: a, namespace: ns}\n  - metadata: {name: b, namespace: ns}\n',
    'typed.yaml',
  );
  t.same(
    typed.objects.map((o) => [o.object.apiVersion, o.object.kind, o.object.metadata?.name, o.line]),
    [
      ['v1', 'Service', 'a', 4],
      ['v1', 'Service', 'b', 5],
    ],
  );
  t.match(parseManifests('apiVersion: v1\nkind: List\nitems: {}\n', 'l.yaml').problems[0], {
    line: 3,
    message: /items must be a sequence/,
  });
  t.match(parseManifests('apiVersion: v1\nkind: List\nitems:\n  - metadata: {name: a}\n', 'l.yaml').problems[0], {
    line: 4,
    message: /apiVersion and kind are missing/,
  });
});

t.test('YAML syntax errors name the line', async (t) => {
  const { objects, problems } = await readManifests([join(FIXTURES, 'syntax-error.yaml')]);
  t.same(objects, []);
  t.match(problems, [{ line: 8, message: /^YAML syntax error: / }]);
});

t.test('folders recurse into *.yaml, *.yml and *.json in name order; stdin; missing paths', async (t) => {
  const tree = await readManifests([join(FIXTURES, 'tree')]);
  t.same(
    tree.files.map((f) => f.slice(FIXTURES.length)),
    ['tree/a-service.yaml', 'tree/sub/b-service.yml', 'tree/sub/c-gateway.json'],
  );
  t.same(
    tree.objects.map((o) => o.object.metadata?.name),
    ['tree-a', 'tree-b', 'tree-gw'],
  );

  const stdin = await readManifests(['-'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata: {name: from-stdin}\n' });
  t.same(
    stdin.objects.map((o) => [o.file, o.line, o.object.metadata?.name]),
    [[STDIN_NAME, 1, 'from-stdin']],
  );

  const missing = await readManifests([join(FIXTURES, 'nope.yaml')]);
  t.match(missing.problems, [{ line: 0, message: 'cannot read: ENOENT' }]);

  t.match(
    (await readManifests(['-'], { stdin: '---\n# nothing\n' })).problems,
    [{ file: STDIN_NAME, message: /^no Kubernetes objects in the input/ }],
    'empty stdin is an error: nothing was checked',
  );

  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-manifests-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'a', 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: once}\n');
  symlinkSync(dir, join(dir, 'a', 'loop'));
  const looped = await readManifests([dir]);
  t.same(
    looped.objects.map((o) => o.object.metadata?.name),
    ['once'],
    'a symlink loop is walked once',
  );
  t.match((await readManifests([join(dir, 'a', 'loop', 'a', 'loop', 'a')])).objects.length, 1);
  const empty = mkdtempSync(join(tmpdir(), 'sctp-guard-empty-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const none = await readManifests([empty]);
  t.match(none.notices, [{ line: 0, message: /folder holds no \*\.yaml/ }]);
  t.match(none.problems, [{ message: /^no Kubernetes objects in the input \(1 file skipped/ }]);
});

const REPO = repoPath('test/fixtures/check-repo');

t.test(
  'a repository: Helm chart, kustomize file, CI workflow and compose file skipped with one notice each',
  async (t) => {
    const r = await readManifests([REPO], { allowSkipped: true });
    t.same(r.problems, []);
    t.same(
      r.objects.map((o) => `${o.object.kind}/${o.object.metadata?.name}`),
      ['Service/diameter-lb', 'Deployment/web', 'ConfigMap/web-config'],
    );
    const notices = r.notices.map((n) => `${n.file.slice(REPO.length + 1)}:${n.line}: ${n.message}`);
    t.same(notices, [
      'chart/Chart.yaml:0: skipped: Helm chart metadata, not a Kubernetes object (render the chart with `helm template`)',
      `chart/templates/service.yaml:4: skipped: a template ({{ … }}) that YAML cannot read: render it first, e.g. \`helm template ${REPO}/chart | sctp-guard check\``,
      'chart/values-prod.yaml:0: skipped: Helm values, not a Kubernetes object',
      'chart/values.yaml:0: skipped: Helm values, not a Kubernetes object',
      'compose.yaml:0: skipped: a Compose file, not a Kubernetes object',
      'manifests/empty.yaml:0: skipped: empty (no Kubernetes objects)',
      `overlays/prod/kustomization.yaml:0: skipped: a kustomize file, not a Kubernetes object (check the render: \`kubectl kustomize ${REPO}/overlays/prod | sctp-guard check\`)`,
    ]);
    t.notOk(
      r.files.some((f) => f.includes('/.github/')),
      'dot-folders are not read',
    );
    t.same(
      (await readManifests([`${REPO}/.github/workflows/ci.yaml`])).notices.map((n) => n.message),
      ['skipped: a CI pipeline, not a Kubernetes object'],
      'unless named',
    );
  },
);

t.test('--exclude globs and quoted -f globs', async (t) => {
  const names = (m: Manifests) => m.objects.map((o) => o.object.metadata?.name);
  t.same(
    names(await readManifests([REPO], { exclude: ['sctp-lb.yaml'] })),
    ['web', 'web-config'],
    'a glob without / matches a name anywhere',
  );
  t.same(names(await readManifests([REPO], { exclude: [`${REPO}/manifests/**`] })), [], 'a path glob prunes a folder');
  t.same(
    (await readManifests([REPO], { exclude: ['chart', 'compose.yaml', 'overlays'] })).notices.map((n) =>
      n.file.slice(REPO.length + 1),
    ),
    ['manifests/empty.yaml'],
  );
  t.same(
    names(await readManifests([`${REPO}/manifests/*.yaml`])),
    ['diameter-lb', 'web', 'web-config'],
    'a glob the shell did not expand',
  );
  t.same(names(await readManifests([`${REPO}/**/sctp-*.yaml`])), ['diameter-lb']);
  t.match((await readManifests([`${REPO}/nothing-*.yaml`])).problems, [
    { message: 'no file or folder matches this pattern' },
  ]);
});

t.test('a field path maps to the line of that field in the YAML', async (t) => {
  const [svc] = (await readManifests([`${REPO}/manifests/sctp-lb.yaml`])).objects;
  t.equal(svc!.line, 2);
  t.equal(svc!.lineOf('/spec/ports/0/protocol'), 14);
  t.equal(svc!.lineOf('/spec/type'), 8);
  const list = parseManifests(
    'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: a}\n    spec:\n      type: LoadBalancer\n',
    'l.yaml',
  );
  t.equal(list.objects[0]!.lineOf('/spec/type'), 8, 'inside a List item');
});

t.test('no raw library warning reaches the user', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  // A collection used as a key: the yaml library would print "Keys with collection values will be stringified".
  const r = parseManifests(
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  ? [a, b]\n  : x\n',
    'k.yaml',
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(r.objects.length, 1);
  t.same(warnings, []);
});

t.test('a template YAML cannot read is an input error unless skips that may hide objects are allowed', async (t) => {
  const r = await readManifests([`${REPO}/chart/templates/service.yaml`, `${REPO}/manifests/web.yaml`]);
  t.match(r.problems, [{ line: 4, message: /^skipped: a template .*pass --allow-skipped\)$/ }]);
  t.same(r.notices, []);
  const docs = parseManifests(
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  t: "{{ .x }}"\n---\nkind: x\nmetadata:\n  labels:\n    {{- include "l" . }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n',
    'mixed.yaml',
  );
  t.same(
    docs.objects.map((o) => o.object.metadata.name),
    ['a', 'b'],
    'the documents around a template are read',
  );
  t.match(docs.notices, [{ line: 10, class: 'template', mayHideObjects: true }]);
});
