import type { FromSchema } from 'json-schema-to-ts';

/** The enums of the policy, as values: the schema checks them and the TypeScript types are derived from them. */
export const ENFORCEMENTS = ['deny', 'warn', 'audit', 'off'] as const;
export const PRESET_NAMES = ['openshift-baremetal', 'ako'] as const;
const FAILURE_MODES = ['closed', 'open'] as const;
const UNKNOWN_NODE_STATES = ['allow', 'warn', 'deny'] as const;
const STATELESS_RULES_ENFORCERS = ['webhook', 'vap'] as const;

/**
 * The policy file (`--config`) without the rules' parameters: the settings every rule and the engine share. The
 * one source of the policy's shape: `PolicyFile` and `Policy` are derived from it, and each rule's parameters
 * (`src/policy/parameters.ts`) are merged in by `policyValidator`. Every field is optional: what is left out comes
 * from the preset (`mergePolicy`).
 */
export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'sctp-guard.io/v1alpha1' },
    kind: { const: 'SctpGuardPolicy' },
    metadata: { type: 'object' },
    preset: { enum: PRESET_NAMES },
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

/** A policy file as validated: every field optional; the rules' parameters beside the shared settings. */
export type PolicyFile = PolicySettings & { readonly [parameter: string]: unknown };

/** The shared settings of a policy file. */
export type PolicySettings = FromSchema<typeof policySchema>;
