import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validatingAdmissionPolicies } from '../../src/admission/vap.js';
import { webhookConfigurations } from '../../src/admission/webhook-config.js';
import { auditedResources } from '../../src/cli/audit.js';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine, evaluateRule } from '../../src/engine/engine.js';
import { reviewObject } from '../../src/engine/review-object.js';
import { parsePolicy } from '../../src/policy/load.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { loadClusterState } from '../../src/cluster/offline.js';
import { exampleSctpPool as poolRule } from '../fixtures/rules/example-sctp-pool.js';
import { CORPUS_DIR } from '../corpus/corpus.js';
import { clusterDataOf } from '../../src/engine/cluster-data.js';
import { POD_KINDS } from '../../src/util/kinds.js';
import { exampleSctpPortName as rule } from '../fixtures/rules/example-sctp-port-name.js';
import { ruleInput } from '../helpers/admission.js';
import { REPO_ROOT } from '../helpers/repo.js';

// docs/adding-a-rule.md, step by step, with its test-only rule (registered here, never in ALL_RULES).
const doc = readFileSync(join(REPO_ROOT, 'docs/adding-a-rule.md'), 'utf8');
const RULES = [...ALL_RULES, rule];
const deployment = (portName?: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'sctp', namespace: 'telco' },
  spec: {
    template: {
      spec: {
        containers: [
          {
            name: 'c',
            image: 'i',
            ports: [{ containerPort: 9999, protocol: 'SCTP', ...(portName ? { name: portName } : {}) }],
          },
        ],
      },
    },
  },
});

t.test('the doc walks through the rule it is tested with', async (t) => {
  t.match(doc, 'test/fixtures/rules/example-sctp-port-name.ts');
  for (const name of [
    'matchKinds(POD_KINDS',
    'ruleParameters(',
    'PARAMETERS.of(policy)',
    'clusterData',
    'deploy/base/rbac.yaml',
    'celOverPodSpec',
    'ratchetedChecks',
    'edited(',
    'npm run generate:vap',
    'sctp-guard register --dry-run',
    'one rule per line',
  ])
    t.match(doc, name);
  t.notOk(ALL_RULES.includes(rule), 'not shipped');
});

t.test('1. the file: the engine writes the prefix; the verdict is pure; updates are ratcheted', async (t) => {
  const finding = evaluateRule(rule, ruleInput(deployment())).findings[0];
  t.match(finding, {
    severity: 'violation',
    message:
      '[example-sctp-port-name] Deployment telco/sctp: an SCTP container port has no name, so Services cannot target it by name. Fix: name every SCTP container port.',
  });
  t.same(evaluateRule(rule, ruleInput(deployment('diameter'))).findings, []);
  const kept = evaluateRule(rule, ruleInput(deployment(), { oldObject: deployment(), operation: 'UPDATE' }));
  t.match(kept.findings, [{ severity: 'advisory' }], 'a problem the old object had is a warning');
});

t.test(
  '1. the parameter: a field of the policy file with its default, typed in evaluate, baked into the CEL',
  async (t) => {
    const prefixed = parsePolicy('sctpPortNamePrefix: sctp-\n', 'policy.yaml', { rules: RULES });
    t.equal(prefixed.sctpPortNamePrefix, 'sctp-');
    t.equal(parsePolicy('', 'policy.yaml', { rules: RULES }).sctpPortNamePrefix, '', 'the default');
    t.throws(() => parsePolicy('sctpPortNamePrefix: SCTP\n', 'policy.yaml', { rules: RULES }), {
      message: /policy\.yaml:1: policy field \/sctpPortNamePrefix: must match/,
    });
    t.throws(() => parsePolicy('sctpPortNamePrefix: sctp-\n', 'policy.yaml', { rules: ALL_RULES }), /unknown field/);
    t.match(evaluateRule(rule, ruleInput(deployment('diameter'), { policy: prefixed })).findings, [
      { message: /no name starting with "sctp-" \(sctpPortNamePrefix\)/ },
    ]);
    t.same(evaluateRule(rule, ruleInput(deployment('sctp-diameter'), { policy: prefixed })).findings, []);
    const [check] = validatingAdmissionPolicies(RULES, prefixed).filter((p) => p.rule === rule.id);
    t.match(check!.policy.spec!.validations![0]!.expression, "startsWith('sctp-')");
    t.same(clusterDataOf([rule]), [], 'a rule with CEL reads no cluster data');
  },
);

t.test('1. cluster data: declared, loaded, and read only as declared', async (t) => {
  t.match(doc, 'test/fixtures/rules/example-sctp-pool.ts');
  t.notOk(ALL_RULES.includes(poolRule), 'not shipped');
  t.same(clusterDataOf([poolRule]), ['Node', 'MachineConfig', 'MachineConfigPool'], 'what the informers would watch');
  t.equal(poolRule.cel, undefined, 'no CEL: a VAP cannot read the cluster');
  const said = ['ocp-4.14-sctp', 'ocp-4.14-var-partition', 'ocp-4.19-fips', 'ocp-4.19-upgrade-mid'].flatMap((state) => {
    const snapshot = loadClusterState(join(CORPUS_DIR, 'state', state), clusterDataOf([poolRule]));
    return evaluateRule(poolRule, ruleInput(deployment(), { snapshot })).findings.map((f) => f.message);
  });
  t.match(said, ['[example-sctp-pool] Deployment telco/sctp: no MachineConfigPool has a node that carries SCTP.']);
});

t.test(
  '2. the registry line: policy, engine, check, audit, webhooks and VAPs follow from the declaration',
  async (t) => {
    const policy = parsePolicy(`rules:\n  ${rule.id}:\n    enforcement: warn\n`, 'policy.yaml', {
      rules: RULES,
    });
    t.equal(policy.rules[rule.id]?.enforcement, 'warn', 'its ID is valid in the policy');
    t.throws(
      () => parsePolicy(`rules:\n  ${rule.id}:\n    enforcement: warn\n`, 'policy.yaml', { rules: ALL_RULES }),
      /unknown rule/,
    );
    const engine = new Engine(RULES, defaultPolicy());
    const review = reviewObject(engine, EMPTY_SNAPSHOT, deployment());
    t.equal(review.allowed, false, 'check and audit run it');
    t.ok(
      review.findings.some((f) => f.rule === rule.id && f.decision === 'deny'),
      'its denial is in the review',
    );
    const audited = auditedResources(engine).map((r) => r.plural);
    for (const k of POD_KINDS) t.ok(audited.includes(k.resource), `audit lists ${k.resource}`);
    const webhook = webhookConfigurations({
      rules: RULES,
      policy: defaultPolicy(),
      target: { url: 'https://127.0.0.1:8443' },
    }).validating!.webhooks![0]!;
    for (const k of POD_KINDS)
      t.ok(
        webhook.rules!.some((r) => r.resources!.includes(k.resource)),
        `the webhook sends ${k.resource}`,
      );
    const vaps = validatingAdmissionPolicies(RULES, defaultPolicy()).filter((p) => p.rule === rule.id);
    t.same(
      vaps.map((p) => p.action),
      ['Deny', 'Warn'],
      'export vap: the check and its ratcheted twin',
    );
    t.ok(
      POD_KINDS.every((k) => vaps[0]!.policy.spec!.validations![0]!.expression.includes(`'${k.kind}'`)),
      'the CEL covers every pod kind',
    );
  },
);
