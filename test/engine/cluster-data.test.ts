import t from 'tap';
import { basename, join } from 'node:path';
import { loadClusterState } from '../../src/cluster/offline.js';
import { KIND_NAMES, type KindName } from '../../src/cluster/records.js';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { clusterDataOf } from '../../src/engine/cluster-data.js';
import { evaluateRule } from '../../src/engine/engine.js';
import type { KubeObject, Rule } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { CORPUS_DIR, loadCorpus } from '../corpus/corpus.js';
import { exampleSctpPool } from '../fixtures/rules/example-sctp-pool.js';
import { ruleInput } from '../helpers/admission.js';
import { repoPath } from '../helpers/repo.js';

// The corpus's cluster states (OpenShift 4.14 and 4.19 dumps) and the example one (SCTP on some pools only), the
// corpus's objects and SCTP Deployments and a Service, so that every rule has objects to judge under every state.
const corpus = loadCorpus();
const states = [
  ...new Set(corpus.flatMap((i) => (i.clusterState ? [join(CORPUS_DIR, i.clusterState)] : []))),
  repoPath('examples/cluster-state'),
];
const deployment = (port: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'sctp', namespace: 'telco' },
  // Tolerating every taint: the control plane nodes too are candidates.
  spec: {
    template: {
      spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'i', ports: [port] }] },
    },
  },
});
const extra: KubeObject[] = [
  deployment({ containerPort: 9999, protocol: 'SCTP' }),
  deployment({ containerPort: 9999, hostPort: 9999, protocol: 'SCTP' }),
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'sctp', namespace: 'telco' },
    spec: { ports: [{ port: 9999, protocol: 'SCTP' }] },
  },
];
const cases = [
  ...corpus.map((i) => ({ object: i.object, oldObject: i.oldObject ?? null, operation: i.operation })),
  ...extra.map((object) => ({ object, oldObject: null, operation: 'CREATE' as const })),
];
// pinToSctpNodes on, so that the mutation has something to do.
const policy = { ...defaultPolicy(), pinToSctpNodes: true };
const matched = (rule: Rule) =>
  cases.filter((c) => rule.matches.some((m) => m.kinds.some((k) => k.kind === c.object.kind)));

const loaded = new Map<string, ClusterSnapshot>();
function snapshotOf(state: string, kinds: readonly KindName[]): ClusterSnapshot {
  const key = `${state} ${kinds.join()}`;
  if (!loaded.has(key)) loaded.set(key, loadClusterState(state, kinds));
  return loaded.get(key)!;
}

/** What the rule says about every matched object under a state loaded with only `kinds`. */
function verdicts(rule: Rule, state: string, kinds: readonly KindName[]): string {
  const snapshot = snapshotOf(state, kinds);
  return JSON.stringify(
    matched(rule).map((c) => {
      const { findings, patch } = evaluateRule(rule, ruleInput(c.object, { ...c, snapshot, policy }));
      return { findings, patch };
    }),
  );
}

// The shipped rules and the test-only one of docs/adding-a-rule.md's cluster-data step.
const RULES = [...ALL_RULES, exampleSctpPool];

t.test('a rule judges alike with only the cluster data it declares and with all of it', async (t) => {
  for (const rule of RULES) {
    for (const state of states) {
      t.equal(
        verdicts(rule, state, rule.clusterData ?? []),
        verdicts(rule, state, KIND_NAMES),
        `${rule.id} ${basename(state)}`,
      );
    }
  }
});

t.test('the check can fail: without its declared data a rule that reads the cluster judges otherwise', async (t) => {
  for (const rule of RULES.filter((r) => r.clusterData)) {
    t.ok(
      states.some((state) => verdicts(rule, state, []) !== verdicts(rule, state, KIND_NAMES)),
      `${rule.id} reads the cluster`,
    );
  }
});

t.test('the rules read every kind the informers can watch; rules on the object alone read none', async (t) => {
  t.same(clusterDataOf(ALL_RULES), KIND_NAMES);
  t.same(clusterDataOf(ALL_RULES.filter((r) => r.cel)), [], 'the rules with CEL (the VAPs) need no cluster data');
});
