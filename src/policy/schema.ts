import { Ajv } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';

/** The enums of the policy, as values: the schema checks them and the TypeScript types are derived from them. */
export const ENFORCEMENTS = ['deny', 'warn', 'audit', 'off'] as const;
export const PRESET_NAMES = ['openshift-baremetal', 'ako'] as const;
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
const FAILURE_MODES = ['closed', 'open'] as const;
const UNKNOWN_NODE_STATES = ['allow', 'warn', 'deny'] as const;
const STATELESS_RULES_ENFORCERS = ['webhook', 'vap'] as const;

/**
 * The policy file (`--config`), the one source of the policy's shape: `PolicyFile` and `Policy` are derived from
 * it. Every field is optional: what is left out comes from the preset (`mergePolicy`).
 */
const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'sctp-guard.io/v1alpha1' },
    kind: { const: 'SctpGuardPolicy' },
    metadata: { type: 'object' },
    preset: { enum: PRESET_NAMES },
    /** Service types that carry SCTP on this platform; a missing `spec.type` means ClusterIP. */
    allowedServiceTypes: { type: 'array', uniqueItems: true, items: { enum: SERVICE_TYPES } },
    /** AKO 1.9.1+ carries SCTP on Gateway listeners. */
    allowSctpGateways: { type: 'boolean' },
    /** The cluster runs AKO with `serviceType: NodePortLocal` (Antrea NPL): every SCTP Service is affected. */
    akoNodePortLocal: { type: 'boolean' },
    /** Exact names or `prefix-*` patterns. */
    excludedNamespaces: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\*)?$|^[a-z0-9-]*\\*$' },
    },
    /** What an exception inside a rule becomes: `closed` denies, `open` allows with a warning. */
    failureMode: { enum: FAILURE_MODES },
    /** What to do when it is unknown whether nodes carry SCTP (no cluster access, no label configured). */
    unknownNodeState: { enum: UNKNOWN_NODE_STATES },
    /** A live snapshot older than this (no successful sync) counts as unknown state. */
    stalenessLimitSeconds: { type: 'integer', minimum: 1 },
    /** A node label that says the node carries SCTP (e.g. made by an NFD NodeFeatureRule). */
    sctpNodeLabel: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['key'],
          properties: { key: { type: 'string', minLength: 1 }, value: { type: 'string' } },
        },
      ],
    },
    /** Mutation: pin SCTP Pods to the MachineConfigPools whose nodes carry SCTP. */
    pinToSctpNodes: { type: 'boolean' },
    /**
     * Who enforces the rules that read only the object: `webhook`, or `vap` (the ValidatingAdmissionPolicies of
     * `sctp-guard export vap`, enforced by the API server itself; the webhook then skips those rules).
     */
    statelessRules: { enum: STATELESS_RULES_ENFORCERS },
    ignition: {
      type: 'object',
      additionalProperties: false,
      /** `auto`: the cluster's rendered version, else its release's, else 3.2.0. */
      properties: { targetVersion: { type: 'string', pattern: '^(auto|2\\.2\\.0|3\\.[0-5]\\.0)$' } },
    },
    rules: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['enforcement'],
        properties: { enforcement: { enum: ENFORCEMENTS } },
      },
    },
  },
} as const;

/** A policy file as validated: every field optional. */
export type PolicyFile = FromSchema<typeof policySchema>;

export const validatePolicyFile = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile<PolicyFile>(
  policySchema,
);
