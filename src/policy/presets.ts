import type { Policy, PresetName } from './types.js';

/** The namespace the webhook runs in, excluded by default so that it can never block its own recovery. */
export const DEFAULT_WEBHOOK_NAMESPACE = 'sctp-guard';

/**
 * The preset's shared settings with nothing from a file (`mergePolicy` lays a file over it, with the rules'
 * parameters as the preset sets them). What a preset changes is declared by the rules it concerns
 * (`ruleParameters`: openshift-baremetal's values are the defaults, `ako`'s are in each rule's presets).
 */
export function defaultPolicy(
  preset: PresetName = 'openshift-baremetal',
  webhookNamespace = DEFAULT_WEBHOOK_NAMESPACE,
): Policy {
  return {
    preset,
    excludedNamespaces: ['kube-system', 'kube-public', webhookNamespace, 'openshift-*'],
    failureMode: 'closed',
    unknownNodeState: 'warn',
    stalenessLimitSeconds: 300,
    sctpNodeLabel: null,
    statelessRules: 'webhook',
    ignition: { targetVersion: 'auto' },
    rules: {},
  };
}
