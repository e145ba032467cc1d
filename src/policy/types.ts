/** How a rule's failure is enforced: deny it, let it through with a warning, log it only, or never run it. */
export type Enforcement = 'deny' | 'warn' | 'audit' | 'off';

export type PresetName = 'openshift-baremetal' | 'ako';

export interface RulePolicy {
  enforcement: Enforcement;
}

/** The effective policy after the preset and the file are merged; every field is set. */
export interface Policy {
  preset: PresetName;
  /** Service types that carry SCTP on this platform; a missing `spec.type` means ClusterIP. */
  allowedServiceTypes: string[];
  /** AKO 1.9.1+ carries SCTP on Gateway listeners. */
  allowSctpGateways: boolean;
  /** The cluster runs AKO with `serviceType: NodePortLocal` (Antrea NPL): every SCTP Service is affected. */
  akoNodePortLocal: boolean;
  /** Exact names or `prefix-*` patterns. */
  excludedNamespaces: string[];
  /** What an exception inside a rule becomes: `closed` denies, `open` allows with a warning. */
  failureMode: 'closed' | 'open';
  /** What to do when it is unknown whether nodes carry SCTP (no cluster access, no label configured). */
  unknownNodeState: 'allow' | 'warn' | 'deny';
  /** A live snapshot older than this (no successful sync) counts as unknown state. */
  stalenessLimitSeconds: number;
  /** A node label that says the node carries SCTP (e.g. made by an NFD NodeFeatureRule). */
  sctpNodeLabel: { key: string; value?: string } | null;
  /** Mutation: pin SCTP Pods to the MachineConfigPools whose nodes carry SCTP. */
  pinToSctpNodes: boolean;
  /**
   * Who enforces the rules that read only the object: `webhook`, or `vap` (the ValidatingAdmissionPolicies of
   * `sctp-guard export vap`, enforced by the API server itself; the webhook then skips those rules).
   */
  statelessRules: 'webhook' | 'vap';
  ignition: {
    /** `auto`: the cluster's rendered version, else its release's, else 3.2.0. */
    targetVersion: string;
  };
  rules: Record<string, RulePolicy>;
}
