import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine, type EngineRequest } from '../../src/engine/engine.js';
import { engineRequest } from '../../src/engine/request.js';
import type { KubeObject, Rule } from '../../src/engine/types.js';
import { advisory, edited, pass, violation } from '../../src/engine/verdict.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { Policy } from '../../src/policy/types.js';

const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'app' } };
const request = (overrides: Partial<EngineRequest> = {}): EngineRequest => engineRequest({ object: svc, ...overrides });

function rule(id: string, evaluate: Rule['evaluate'], extra: Partial<Rule> = {}): Rule {
  return {
    id,
    description: id,
    phase: 'validate',
    defaultEnforcement: 'deny',
    matches: [
      {
        group: '',
        versions: ['v1'],
        kinds: [{ kind: 'Service', resource: 'services' }],
        operations: ['CREATE', 'UPDATE'],
      },
    ],
    evaluate,
    ...extra,
  };
}

const policyWith = (rules: Policy['rules'], extra: Partial<Policy> = {}): Policy => ({
  ...defaultPolicy(),
  rules,
  ...extra,
});

t.test('a deny wins and its message lists every failing rule', async (t) => {
  const bad = (what: string) => violation({ text: `bad ${what}.`, fix: `fix ${what}`, summary: what });
  const engine = new Engine(
    [rule('a', () => bad('A')), rule('b', () => bad('B')), rule('c', () => pass())],
    defaultPolicy(),
  );
  const d = engine.evaluate(request(), EMPTY_SNAPSHOT, 'validate');
  t.equal(d.allowed, false);
  t.equal(
    d.message,
    '[a] Service app/s: bad A. Fix: fix A.\n[b] Service app/s: bad B. Fix: fix B.',
    'the engine names the rule and the object once',
  );
  t.same(d.warnings, []);
  t.same(d.results[0]!.findings, [
    {
      message: '[a] Service app/s: bad A. Fix: fix A.',
      detail: 'bad A. Fix: fix A.',
      summary: '[a] Service app/s: A',
      fix: 'fix A',
    },
  ]);
  t.same(
    d.results.map((r) => [r.rule, r.decision]),
    [
      ['a', 'deny'],
      ['b', 'deny'],
      ['c', 'allow'],
    ],
  );
  t.same(Object.keys(d.auditAnnotations), ['a', 'b']);
});

t.test('enforcement: warn lets through with a warning, audit only logs, off never runs', async (t) => {
  let offRan = false;
  const rules = [
    rule('w', () => violation({ text: 'long.', summary: 'short' })),
    rule('au', () => violation({ text: 'logged.', summary: 'logged' })),
    rule('off', () => ((offRan = true), violation({ text: 'x.', summary: 'x' }))),
  ];
  const engine = new Engine(
    rules,
    policyWith({ w: { enforcement: 'warn' }, au: { enforcement: 'audit' }, off: { enforcement: 'off' } }),
  );
  const d = engine.evaluate(request(), EMPTY_SNAPSHOT, 'validate');
  t.equal(d.allowed, true);
  t.same(d.warnings, ['[w] Service app/s: short']);
  t.same(
    d.results.map((r) => [r.rule, r.decision]),
    [
      ['w', 'warn'],
      ['au', 'audit'],
    ],
  );
  t.equal(offRan, false, 'a rule switched off never runs');
  t.match(d.auditAnnotations, { au: /^audit: \[au\] Service app\/s: logged/ });
});

t.test('advisories warn even under deny enforcement, and never deny', async (t) => {
  const engine = new Engine([rule('adv', () => advisory({ text: 'note.', summary: 'n' }))], defaultPolicy());
  const d = engine.evaluate(request(), EMPTY_SNAPSHOT, 'validate');
  t.equal(d.allowed, true);
  t.same(d.warnings, ['[adv] Service app/s: n']);
});

t.test('rules only see their kinds, operations and phase; excluded namespaces are skipped', async (t) => {
  let calls = 0;
  const engine = new Engine([rule('a', () => (calls++, pass()))], defaultPolicy());
  t.match(engine.evaluate(request({ gvk: { group: '', version: 'v1', kind: 'Pod' } }), EMPTY_SNAPSHOT, 'validate'), {
    allowed: true,
    skipped: /no validate rule reads Pod/,
  });
  t.match(engine.evaluate(request({ operation: 'DELETE' }), EMPTY_SNAPSHOT, 'validate'), { skipped: /DELETE/ });
  t.match(engine.evaluate(request(), EMPTY_SNAPSHOT, 'mutate'), { skipped: /no mutate rule/ });
  for (const ns of ['kube-system', 'openshift-monitoring', 'sctp-guard']) {
    t.match(engine.evaluate(request({ namespace: ns }), EMPTY_SNAPSHOT, 'validate'), { skipped: /excluded/ }, ns);
  }
  t.equal(calls, 0);
  engine.evaluate(request({ namespace: 'openshift' }), EMPTY_SNAPSHOT, 'validate');
  t.equal(calls, 1, '"openshift-*" does not match "openshift"');
});

t.test('a rule that throws follows failureMode and never escapes', async (t) => {
  const boom = rule('boom', () => {
    throw new TypeError('cannot read x');
  });
  const closed = new Engine([boom], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'validate');
  t.equal(closed.allowed, false);
  t.match(closed.message, /\[boom\] Service app\/s: the rule failed \(cannot read x\); failureMode closed denies/);
  t.equal(closed.results[0]!.decision, 'error');
  const open = new Engine([boom], policyWith({}, { failureMode: 'open' })).evaluate(
    request(),
    EMPTY_SNAPSHOT,
    'validate',
  );
  t.equal(open.allowed, true);
  t.match(open.warnings[0], /\[boom\].*the rule failed/);
});

t.test(
  'mutating rules edit the object and the engine computes the patch: only from the mutate phase, dropped on denial and in audit mode',
  async (t) => {
    const op = { op: 'add' as const, path: '/metadata/labels', value: { a: 'b' } };
    const m = rule('m', () => edited((o) => void (o.metadata!.labels = { a: 'b' })), { phase: 'mutate' });
    t.same(new Engine([m], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'mutate').patch, [op]);
    t.same(
      new Engine([m], policyWith({ m: { enforcement: 'audit' } })).evaluate(request(), EMPTY_SNAPSHOT, 'mutate').patch,
      [],
    );
    const deny = rule('d', () => violation({ text: 'no.', summary: 'no' }), { phase: 'mutate' });
    const d = new Engine([m, deny], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'mutate');
    t.equal(d.allowed, false);
    t.same(d.patch, []);
    t.equal(d.patchedObject, undefined);
  },
);

t.test('the decision carries the object as its patch leaves it, from one rule or several', async (t) => {
  const labels = rule('labels', () => edited((o) => void (o.metadata!.labels = { a: 'b' })), { phase: 'mutate' });
  const annotations = rule('annotations', () => edited((o) => void (o.metadata!.annotations = { c: 'd' })), {
    phase: 'mutate',
  });
  const one = new Engine([labels], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'mutate');
  t.same(one.patchedObject, jsonpatch.applyPatch(structuredClone(svc), structuredClone(one.patch)).newDocument);
  t.same(one.patchedObject?.metadata?.labels, { a: 'b' });
  t.same(svc.metadata?.labels, undefined, 'the object reviewed is left as it came');
  const both = new Engine([labels, annotations], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'mutate');
  t.same(both.patchedObject?.metadata, { ...svc.metadata, labels: { a: 'b' }, annotations: { c: 'd' } });
  // Two rules adding the same field: the second `add` replaces the first, as the API server applies them.
  const again = rule('again', () => edited((o) => void (o.metadata!.labels = { x: 'y' })), { phase: 'mutate' });
  const clash = new Engine([labels, again], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'mutate');
  t.same(clash.patchedObject?.metadata?.labels, { x: 'y' });
  const validate = new Engine([labels], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'validate');
  t.equal(validate.patchedObject, undefined, 'no patch, no patched object');
});

t.test('warnings are one line, deduplicated and within the 4096-character budget', async (t) => {
  const many = rule('many', () => ({
    findings: Array.from({ length: 100 }, (_, i) => ({
      severity: 'advisory' as const,
      text: `m${i}.`,
      summary: `warning number ${i} `.padEnd(90, 'x'),
    })),
    annotations: {},
  }));
  const twice = rule('twice', () => advisory({ text: 'a\nb', summary: 'line one\nline two' }));
  const d = new Engine([twice, twice, many], defaultPolicy()).evaluate(request(), EMPTY_SNAPSHOT, 'validate');
  t.equal(d.warnings[0], '[twice] Service app/s: line one line two');
  t.ok(d.warnings.join('').length <= 4096);
  t.ok(d.warnings.every((w) => w.length < 120));
  t.equal(new Set(d.warnings).size, d.warnings.length);
});

t.test('a rule whose declared SCTP fields hold no SCTP is not run, and is reported as allowing', async (t) => {
  let runs = 0;
  const sctpFields = [['spec', 'ports', '*', 'protocol']] as const;
  const counted = rule('counted', () => (runs++, violation({ text: 'bad.', summary: 'bad' })), {
    matches: [
      {
        group: '',
        versions: ['v1'],
        kinds: [{ kind: 'Service', resource: 'services' }],
        operations: ['CREATE', 'UPDATE', 'DELETE'],
        sctpFields,
      },
    ],
  });
  const engine = new Engine([counted], defaultPolicy());
  const withPorts = (protocol: string): KubeObject => ({
    ...svc,
    spec: {
      ports: [
        { port: 80, protocol: 'TCP' },
        { port: 9, protocol },
      ],
    },
  });
  const tcp = engine.evaluate(request({ object: withPorts('UDP') }), EMPTY_SNAPSHOT, 'validate');
  t.equal(runs, 0, 'no SCTP: not run');
  t.same(tcp.results, [{ rule: 'counted', decision: 'allow', enforcement: 'deny', findings: [], patched: false }]);
  t.equal(tcp.allowed, true);
  t.equal(
    engine.evaluate(request({ object: withPorts('sctp') }), EMPTY_SNAPSHOT, 'validate').allowed,
    false,
    'SCTP in any case: run',
  );
  t.equal(runs, 1);
  engine.evaluate(
    request({ operation: 'DELETE', object: null, oldObject: withPorts('SCTP') }),
    EMPTY_SNAPSHOT,
    'validate',
  );
  t.equal(runs, 2, 'DELETE: the old object is what is looked at');
});
