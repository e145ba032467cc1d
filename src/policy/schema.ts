import { Ajv } from 'ajv';

const enforcement = { enum: ['deny', 'warn', 'audit', 'off'] };

/** The policy file (`--config`). Every field is optional: what is left out comes from the preset. */
export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'sctp-guard.io/v1alpha1' },
    kind: { const: 'SctpGuardPolicy' },
    metadata: { type: 'object' },
    preset: { enum: ['openshift-baremetal', 'ako'] },
    allowedServiceTypes: {
      type: 'array',
      uniqueItems: true,
      items: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
    },
    allowSctpGateways: { type: 'boolean' },
    akoNodePortLocal: { type: 'boolean' },
    excludedNamespaces: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\*)?$|^[a-z0-9-]*\\*$' } },
    failureMode: { enum: ['closed', 'open'] },
    unknownNodeState: { enum: ['allow', 'warn', 'deny'] },
    stalenessLimitSeconds: { type: 'integer', minimum: 1 },
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
    pinToSctpNodes: { type: 'boolean' },
    statelessRules: { enum: ['webhook', 'vap'] },
    ignition: {
      type: 'object',
      additionalProperties: false,
      properties: { targetVersion: { type: 'string', pattern: '^(auto|2\\.2\\.0|3\\.[0-5]\\.0)$' } },
    },
    rules: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['enforcement'],
        properties: { enforcement },
      },
    },
  },
} as const;

export const validatePolicyFile = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(policySchema);
