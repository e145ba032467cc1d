import t from 'tap';
import { loadClusterState } from '../../src/cluster/offline.js';
import { auditRecord } from '../../src/server/audit-record.js';
import { Engine } from '../../src/engine/engine.js';
import { describePatch } from '../../src/engine/patch-summary.js';
import { gvkOf, namespaceOf } from '../../src/engine/request.js';
import { reviewObject } from '../../src/engine/review-object.js';
import type { EngineRequest } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { exampleObject } from '../helpers/admission.js';
import { repoPath } from '../helpers/repo.js';

const snapshot = loadClusterState(repoPath('examples/cluster-state'));
const engine = new Engine(ALL_RULES, defaultPolicy());

t.test(
  "a MachineConfig rewritten to the cluster's Ignition version: the versions and the sections rewritten",
  async (t) => {
    const mc = exampleObject('openshift-machineconfig-load-sctp-2.2.0.yaml', 'MachineConfig');
    const review = reviewObject(engine, snapshot, mc);
    t.ok(review.patch.length > 0, 'the example is mutated');
    t.equal(
      review.change,
      'spec.config: Ignition 2.2.0 → 3.4.0 (rewritten: storage.files); metadata.annotations added (sctp-guard.io/ignition-translated-from: 2.2.0)',
    );

    // The admission audit line says the same.
    const request: EngineRequest = {
      object: mc,
      oldObject: null,
      operation: 'CREATE',
      gvk: gvkOf(mc),
      namespace: namespaceOf(mc),
      dryRun: false,
    };
    const decision = engine.evaluate(request, snapshot, 'mutate');
    const record = auditRecord({ uid: 'u', phase: 'mutate', request, decision, user: 'alice', latencyMs: 1 });
    t.equal(record.change, review.change);
    t.equal(
      auditRecord({
        uid: 'u',
        phase: 'validate',
        request,
        decision: engine.evaluate(request, snapshot, 'validate'),
        user: 'alice',
        latencyMs: 1,
      }).change,
      undefined,
      'no patch, no change',
    );
  },
);

t.test('every JSON Patch operation has words', async (t) => {
  const obj = { metadata: { labels: { a: '1' } }, spec: { x: 1 } };
  // Outside spec.config, only the patch is read (these patches need not even apply).
  t.equal(
    describePatch(obj, undefined, [
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'replace', path: '/spec/x', value: 2 },
      { op: 'add', path: '/metadata/annotations/example.com~1k', value: 'v' },
      { op: 'move', from: '/spec/x', path: '/spec/y' },
    ]),
    'metadata.labels.a removed; spec.x replaced (2); metadata.annotations.example.com/k added (v); spec.y moved from spec.x',
  );
  t.equal(
    describePatch(obj, undefined, [{ op: 'replace', path: '/spec', value: { text: 'x'.repeat(200) } }]),
    `spec replaced (text: ${'x'.repeat(77)}...)`,
    'long values are cut',
  );
});
