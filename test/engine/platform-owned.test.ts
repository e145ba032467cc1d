import t from 'tap';
import fc from 'fast-check';
import { review } from '../../src/admission/review.js';
import { validatingAdmissionPolicies } from '../../src/admission/vap.js';
import { webhookConfigurations } from '../../src/admission/webhook-config.js';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { matchKinds } from '../../src/rules/matches.js';
import { GENERATED_BY_ANNOTATION } from '../../src/cluster/machineconfig.js';
import { MCO_SERVICE_ACCOUNTS, platformOwnedConditions, platformOwnedReason } from '../../src/engine/platform-owned.js';
import type { KubeObject, Rule } from '../../src/engine/types.js';
import { violation } from '../../src/engine/verdict.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { KINDS } from '../../src/util/kinds.js';
import { admissionReview, testApp } from '../helpers/admission.js';
import { evalCel, toCel } from '../helpers/vap-eval.js';

const MC_GVK = { group: 'machineconfiguration.openshift.io', version: 'v1', kind: 'MachineConfig' };

/** A user's MachineConfig in Ignition 3.5.0: in a cluster rendering 3.4.0 the mutating rule translates it down. */
function machineConfig(metadata: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name: '00-worker', labels: { 'machineconfiguration.openshift.io/role': 'worker' }, ...metadata },
    spec: {
      config: {
        ignition: { version: '3.5.0' },
        storage: { files: [{ path: '/etc/x', contents: { source: 'data:,x' }, mode: 420, overwrite: true }] },
      },
    },
  };
}

const TEMPLATE_OWNED = {
  annotations: { [GENERATED_BY_ANNOTATION]: 'a1b2c3' },
  ownerReferences: [
    {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'ControllerConfig',
      name: 'machine-config-controller',
      uid: 'u',
      controller: true,
      blockOwnerDeletion: true,
    },
  ],
};
const SNAPSHOT_34 = { ...EMPTY_SNAPSHOT, renderedIgnitionVersion: '3.4.0' };

t.test("the engine skips the MCO's own MachineConfigs for every rule, and says why", async (t) => {
  const engine = new Engine(ALL_RULES, defaultPolicy());
  const req = (object: KubeObject, username?: string) => ({
    object,
    oldObject: null,
    operation: 'CREATE' as const,
    gvk: MC_GVK,
    namespace: '',
    dryRun: false,
    ...(username ? { username } : {}),
  });
  const user = engine.evaluate(req(machineConfig({})), SNAPSHOT_34, 'mutate');
  t.not(user.patch.length, 0, 'a user config at 3.5.0 is translated for a cluster rendering 3.4.0 (the test can fail)');
  for (const phase of ['mutate', 'validate'] as const) {
    const own = engine.evaluate(req(machineConfig(TEMPLATE_OWNED)), SNAPSHOT_34, phase);
    if (phase === 'validate' && own.skipped?.startsWith('no validate rule')) continue;
    t.same(own.patch, [], phase);
    t.same(own.results, [], `${phase}: no rule ran`);
    t.match(
      own.skipped,
      /Machine Config Operator's own \(annotation machineconfiguration\.openshift\.io\/generated-by-controller-version: a1b2c3; owned by ControllerConfig machine-config-controller\)/,
    );
  }
  // GetManagedKey's copy of a deprecated config carries neither: only the writer says it is the MCO's.
  const migrated = engine.evaluate(
    req(machineConfig({ name: '99-worker-generated-kubelet' }), MCO_SERVICE_ACCOUNTS[0]),
    SNAPSHOT_34,
    'mutate',
  );
  t.match(
    migrated.skipped,
    /written by system:serviceaccount:openshift-machine-config-operator:machine-config-controller/,
  );
  t.not(
    engine.evaluate(req(machineConfig({}), 'system:serviceaccount:openshift-gitops:argocd'), SNAPSHOT_34, 'mutate')
      .patch.length,
    0,
    'another service account is a user',
  );
  t.not(
    engine.evaluate(req(machineConfig({ annotations: { [GENERATED_BY_ANNOTATION]: '' } })), SNAPSHOT_34, 'mutate').patch
      .length,
    0,
    'an empty annotation is no generated MC (upstream tests != "")',
  );
});

t.test('serve: the username comes from the AdmissionReview', async (t) => {
  const engine = new Engine(ALL_RULES, defaultPolicy());
  const body = admissionReview(machineConfig({ name: '99-worker-generated-kubelet' })) as any;
  t.not(review(body, engine, SNAPSHOT_34, 'mutate').decision.patch.length, 0, 'user tester is translated');
  body.request.userInfo.username = MCO_SERVICE_ACCOUNTS[0];
  const out = review(body, engine, SNAPSHOT_34, 'mutate');
  t.equal(out.review.response.patch, undefined);
  t.match(
    out.decision.skipped,
    /written by system:serviceaccount:openshift-machine-config-operator:machine-config-controller/,
  );
});

t.test(
  "POST /mutate and /validate through the real server: the MCO's 00-worker at 3.5.0 in a cluster rendering 3.4.0",
  async (t) => {
    const { app, auditLines } = testApp({ snapshot: SNAPSHOT_34 });
    t.teardown(() => app.close());
    for (const url of ['/mutate', '/validate']) {
      const res = await app.inject({ method: 'POST', url, payload: admissionReview(machineConfig(TEMPLATE_OWNED)) });
      const response = res.json().response;
      t.same([response.allowed, response.patch, response.warnings], [true, undefined, undefined], url);
      t.match(
        auditLines.at(-1),
        { audit: 'admission', kind: 'MachineConfig', patched: false, skipped: /Machine Config Operator's own/ },
        `${url}: the audit line says why`,
      );
    }
    const user = await app.inject({ method: 'POST', url: '/mutate', payload: admissionReview(machineConfig({})) });
    t.equal(
      user.json().response.patchType,
      'JSONPatch',
      'a user config at 3.5.0 is still translated (the test can fail)',
    );
  },
);

// ---- The CEL against the engine's predicate ----

const owner = fc.constantFrom(
  {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfigPool',
    name: 'worker',
    uid: 'u',
    controller: true,
  },
  {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'ControllerConfig',
    name: 'machine-config-controller',
    uid: 'u',
    controller: true,
  },
  {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'KubeletConfig',
    name: 'set-max-pods',
    uid: 'u',
    controller: true,
  },
  {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'ContainerRuntimeConfig',
    name: 'pids',
    uid: 'u',
    controller: true,
  },
  { apiVersion: 'config.openshift.io/v1', kind: 'Image', name: 'cluster', uid: 'u' },
  { apiVersion: 'config.openshift.io/v1', kind: 'Image' },
  { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gitops', uid: 'u', controller: true },
  { apiVersion: 'example.com/v1', kind: 'KubeletConfig', name: 'lookalike', uid: 'u' },
);
const metadata = fc.record(
  {
    name: fc.constantFrom('00-worker', 'rendered-worker-0a1b', '99-worker-sctp'),
    annotations: fc.dictionary(fc.constantFrom(GENERATED_BY_ANNOTATION, 'other'), fc.constantFrom('', 'a1b2c3')),
    ownerReferences: fc.array(owner, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const username = fc.option(
  fc.constantFrom(
    ...MCO_SERVICE_ACCOUNTS,
    'system:serviceaccount:openshift-machine-config-operator:machine-config-daemon',
    'kube:admin',
    '',
  ),
  { nil: undefined },
);

t.test(
  'property: the matchCondition sends exactly the requests the engine does not skip, and never errors',
  async (t) => {
    const [condition] = platformOwnedConditions([{ group: MC_GVK.group, kind: MC_GVK.kind }]);
    let skipped = 0;
    const result = fc.check(
      fc.property(metadata, username, (meta, user) => {
        const object = machineConfig(meta);
        const request = {
          kind: MC_GVK,
          operation: 'CREATE',
          namespace: '',
          ...(user !== undefined ? { userInfo: { username: user } } : {}),
        };
        const sent = evalCel(condition!.expression, {
          request: toCel(request),
          object: toCel(object),
          oldObject: null,
        });
        const reason = platformOwnedReason({ object, gvk: MC_GVK, ...(user !== undefined ? { username: user } : {}) });
        if (reason !== undefined) skipped++;
        return sent === (reason === undefined);
      }),
      { numRuns: 400, seed: 20261207 },
    );
    t.notOk(
      result.failed,
      result.failed ? `counterexample: ${JSON.stringify(result.counterexample)}` : 'no counterexample',
    );
    t.ok(skipped > 50 && skipped < 390, `both sides exercised (${skipped} skipped)`);
    const other = evalCel(condition!.expression, {
      request: toCel({
        kind: { group: '', version: 'v1', kind: 'Service' },
        userInfo: { username: MCO_SERVICE_ACCOUNTS[0] },
      }),
      object: toCel({}),
      oldObject: null,
    });
    t.equal(other, true, 'other kinds are not its business');
  },
);

t.test('both webhook configurations and the exported VAPs carry the condition for MachineConfigs', async (t) => {
  const configs = webhookConfigurations({
    rules: ALL_RULES,
    policy: defaultPolicy(),
    target: { url: 'https://127.0.0.1:8443' },
  });
  const mutating = configs.mutating!.webhooks![0]!.matchConditions!.map((c) => c.name);
  t.ok(mutating.includes('machineconfig-not-written-by-the-mco'), 'mutating');
  // A stateless rule on MachineConfigs (as a new MachineConfig rule may be) gets the condition in its VAP.
  const stateless: Rule = {
    id: 'mc-test',
    description: 'test',
    phase: 'validate',
    defaultEnforcement: 'deny',
    matches: matchKinds([KINDS.MachineConfig], ['CREATE', 'UPDATE']),
    evaluate: () => violation({ text: 'no.', summary: 'no' }),
    cel: () => ({
      variables: [],
      checks: [{ name: '', severity: 'violation', expression: 'false', text: "'no.'", summary: "'no'" }],
    }),
  };
  const [pair] = validatingAdmissionPolicies([stateless], defaultPolicy());
  t.ok(
    pair!.policy.spec!.matchConditions!.some((c) => c.name === 'machineconfig-not-written-by-the-mco'),
    'VAP',
  );
  const validating = webhookConfigurations({
    rules: [stateless],
    policy: defaultPolicy(),
    target: { url: 'https://127.0.0.1:8443' },
  }).validating!;
  t.ok(
    validating.webhooks![0]!.matchConditions!.some((c) => c.name === 'machineconfig-not-written-by-the-mco'),
    'validating',
  );
});
