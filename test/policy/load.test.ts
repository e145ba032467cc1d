import t from 'tap';
import { loadPolicy, parsePolicy, PolicyError } from '../../src/policy/load.js';
import { ALL_RULES } from '../../src/rules/index.js';

t.test('no file: the openshift-baremetal defaults', async (t) => {
  const p = loadPolicy(undefined, { rules: ALL_RULES, webhookNamespace: 'guard' });
  t.equal(p.preset, 'openshift-baremetal');
  t.same(p.allowedServiceTypes, ['ClusterIP', 'NodePort']);
  t.same(p.excludedNamespaces, ['kube-system', 'kube-public', 'guard', 'openshift-*']);
  t.equal(p.failureMode, 'closed');
  t.equal(p.unknownNodeState, 'warn');
  t.equal(p.ignition.targetVersion, 'auto');
});

t.test('the preset fills what the file leaves out; the file wins', async (t) => {
  const p = parsePolicy('preset: ako\nrules:\n  nodeportlocal-sctp: {enforcement: deny}\n', 'p.yaml', {
    rules: ALL_RULES,
  });
  t.same(p.allowedServiceTypes, ['ClusterIP', 'NodePort', 'LoadBalancer']);
  t.equal(p.allowSctpGateways, true);
  t.same(p.rules, { 'nodeportlocal-sctp': { enforcement: 'deny' } });
  const q = parsePolicy('preset: ako\nallowedServiceTypes: [NodePort]\nignition: {targetVersion: 3.4.0}\n', 'q.yaml', {
    rules: ALL_RULES,
  });
  t.same(q.allowedServiceTypes, ['NodePort']);
  t.equal(q.ignition.targetVersion, '3.4.0');
});

t.test('enforcement: "off" quoted turns a rule off', async (t) => {
  t.same(
    parsePolicy('rules:\n  sctp-service-type: {enforcement: "off"}\n', 'p.yaml', { rules: ALL_RULES }).rules[
      'sctp-service-type'
    ],
    { enforcement: 'off' },
  );
});

t.test('errors name the file and the line of the offending field', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    [
      'preset: ako\nallowedServiceTypes:\n  - ClusterIP\n  - Loadbalancer\n',
      4,
      /\/allowedServiceTypes\/1: must be one of: ClusterIP, NodePort, LoadBalancer, ExternalName$/,
    ],
    // Every message names the expected value: never ajv's bare "must be equal to constant" or "must be null".
    ['apiVersion: sctp-guard.io/v1\n', 1, /\/apiVersion: must be "sctp-guard.io\/v1alpha1"$/],
    ['sctpNodeLabel: 5\n', 1, /\/sctpNodeLabel: must be null or a mapping$/],
    ['sctpNodeLabel:\n  value: "true"\n', 1, /\/sctpNodeLabel: must have required property 'key'$/],
    ['allowSctpGateways: yes please\n', 1, /\/allowSctpGateways: must be a boolean$/],
    ['preset: gke\n', 1, /\/preset/],
    ['failureMode: closed\nunknwonNodeState: deny\n', 2, /unknown field "unknwonNodeState"/],
    ['rules:\n  sctp-service-type:\n    enforcement: block\n', 3, /\/rules\/sctp-service-type\/enforcement/],
    // YAML 1.1 reads an unquoted off as false: the message says to quote it.
    [
      'rules:\n  sctp-service-type:\n    enforcement: off\n',
      3,
      /\/rules\/sctp-service-type\/enforcement: must be one of: deny, warn, audit, off; YAML 1.1 reads an unquoted off, no, on or yes as false: quote the word, e\.g\. enforcement: "off"$/,
    ],
    ['rules:\n  sctp-service-type: {enforcement: on}\n', 2, /as true: quote the word/],
    ['rules:\n  no-such-rule: {enforcement: deny}\n', 2, /unknown rule "no-such-rule"; known rules: sctp-service-type/],
    ['preset: [unclosed\n', 2, /Flow sequence/],
    ['a: 1\n---\nb: 2\n', 3, /one YAML document/],
  ];
  for (const [text, line, reason] of cases) {
    try {
      parsePolicy(text, 'policy.yaml', { rules: ALL_RULES });
      t.fail(`accepted: ${text}`);
    } catch (err) {
      t.type(err, PolicyError);
      const e = err as PolicyError;
      t.equal(e.file, 'policy.yaml');
      t.equal(e.line, line, `line for ${JSON.stringify(text)}`);
      t.match(e.reason, reason);
      t.match(e.message, new RegExp(`^policy.yaml:${line}: `));
    }
  }
});

t.test('a missing file is a PolicyError', async (t) => {
  t.throws(() => loadPolicy('/nonexistent/policy.yaml', { rules: ALL_RULES }), {
    name: 'PolicyError',
    line: 0,
    message: /^\/nonexistent\/policy.yaml: cannot read the policy file/,
  });
});
