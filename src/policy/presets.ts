import type { Policy, PresetName } from './types.js';

/** The namespace the webhook runs in, excluded by default so that it can never block its own recovery. */
export const DEFAULT_WEBHOOK_NAMESPACE = 'sctp-guard';

/**
 * Platform presets. `openshift-baremetal`: only ClusterIP and NodePort carry SCTP (OpenShift docs, "Using SCTP
 * on a bare-metal cluster"). `ako`: AKO 1.9.1+ with Avi Controller 22.1.3+ adds LoadBalancer and Gateway listeners.
 */
export const PRESETS: Record<PresetName, Pick<Policy, 'allowedServiceTypes' | 'allowSctpGateways'>> = {
  'openshift-baremetal': { allowedServiceTypes: ['ClusterIP', 'NodePort'], allowSctpGateways: false },
  ako: { allowedServiceTypes: ['ClusterIP', 'NodePort', 'LoadBalancer'], allowSctpGateways: true },
};

/** The preset's policy with nothing from a file (`mergePolicy` lays a file over it). */
export function defaultPolicy(
  preset: PresetName = 'openshift-baremetal',
  webhookNamespace = DEFAULT_WEBHOOK_NAMESPACE,
): Policy {
  return {
    preset,
    ...structuredClone(PRESETS[preset]),
    akoNodePortLocal: false,
    excludedNamespaces: ['kube-system', 'kube-public', webhookNamespace, 'openshift-*'],
    failureMode: 'closed',
    unknownNodeState: 'warn',
    stalenessLimitSeconds: 300,
    sctpNodeLabel: null,
    pinToSctpNodes: false,
    statelessRules: 'webhook',
    ignition: { targetVersion: 'auto' },
    rules: {},
  };
}
