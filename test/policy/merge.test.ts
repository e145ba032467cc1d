import t from 'tap';
import { mergePolicy } from '../../src/policy/merge.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { PRESET_NAMES } from '../../src/policy/schema.js';
import { ALL_RULES } from '../../src/rules/index.js';

t.test('an empty file is the default policy', async (t) => {
  t.same(mergePolicy({}), defaultPolicy());
  t.same(mergePolicy({}, 'guard'), defaultPolicy('openshift-baremetal', 'guard'));
  for (const preset of PRESET_NAMES) t.same(mergePolicy({ preset }), defaultPolicy(preset), preset);
});

t.test('the preset fills what the file leaves out; each field the file sets wins', async (t) => {
  const p = mergePolicy(
    {
      apiVersion: 'sctp-guard.io/v1alpha1',
      kind: 'SctpGuardPolicy',
      metadata: { name: 'x' },
      preset: 'ako',
      unknownNodeState: 'deny',
      rules: { 'sctp-module-loaded': { enforcement: 'warn' } },
    },
    undefined,
    ALL_RULES,
  );
  t.same(p.allowedServiceTypes, ['ClusterIP', 'NodePort', 'LoadBalancer'], "the rules' parameters as ako sets them");
  t.equal(p.allowSctpGateways, true);
  t.equal(p.unknownNodeState, 'deny');
  t.same(p.rules, { 'sctp-module-loaded': { enforcement: 'warn' } });
  t.notOk('apiVersion' in p || 'kind' in p || 'metadata' in p, 'the envelope is not policy');
  t.same(
    mergePolicy({ preset: 'ako', allowedServiceTypes: ['NodePort'] }, undefined, ALL_RULES).allowedServiceTypes,
    ['NodePort'],
    'a list replaces the preset list',
  );
  t.same(mergePolicy({ sctpNodeLabel: null }).sctpNodeLabel, null);
  t.same(mergePolicy({ sctpNodeLabel: { key: 'sctp' } }).sctpNodeLabel, { key: 'sctp' });
});

t.test('ignition is merged field by field', async (t) => {
  t.same(mergePolicy({ ignition: {} }).ignition, { targetVersion: 'auto' });
  t.same(mergePolicy({ ignition: { targetVersion: '3.4.0' } }).ignition, { targetVersion: '3.4.0' });
});

t.test('the own namespace is always excluded, once', async (t) => {
  t.same(mergePolicy({ excludedNamespaces: ['kube-system'] }).excludedNamespaces, ['kube-system', 'sctp-guard']);
  t.same(mergePolicy({ excludedNamespaces: [] }, 'guard').excludedNamespaces, ['guard']);
  t.same(
    mergePolicy({ excludedNamespaces: ['kube-system', 'guard-*'] }, 'guard-prod').excludedNamespaces,
    ['kube-system', 'guard-*'],
    'covered by guard-*',
  );
  t.same(
    mergePolicy({}, 'guard').excludedNamespaces,
    ['kube-system', 'kube-public', 'guard', 'openshift-*'],
    'the defaults name it already',
  );
});

t.test('a merged policy shares no list with the declarations', async (t) => {
  (mergePolicy({}, undefined, ALL_RULES).allowedServiceTypes as string[]).push('LoadBalancer');
  t.same(mergePolicy({}, undefined, ALL_RULES).allowedServiceTypes, ['ClusterIP', 'NodePort']);
});
