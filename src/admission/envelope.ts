/**
 * JSON schema of the AdmissionReview envelope (admission.k8s.io/v1 and v1beta1), checked by ajv as the route's
 * body schema before any rule runs. Only what the server reads is constrained; `object` and `oldObject` stay
 * free-form, as the rules read them defensively.
 */
export const SUPPORTED_API_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

const gvk = {
  type: 'object',
  required: ['kind'],
  properties: { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string', minLength: 1 } },
};

const objectOrNull = { anyOf: [{ type: 'object' }, { type: 'null' }] };

export const admissionReviewSchema = {
  $id: 'AdmissionReview',
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { type: 'string', enum: [...SUPPORTED_API_VERSIONS] },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 256 },
        kind: gvk,
        resource: { type: 'object' },
        subResource: { type: 'string' },
        requestKind: gvk,
        name: { type: 'string' },
        namespace: { type: 'string' },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        userInfo: {
          type: 'object',
          properties: {
            username: { type: 'string' },
            uid: { type: 'string' },
            groups: { type: 'array', items: { type: 'string' } },
          },
        },
        object: objectOrNull,
        oldObject: objectOrNull,
        dryRun: { type: 'boolean' },
        options: objectOrNull,
      },
    },
  },
} as const;

export interface AdmissionRequest {
  uid: string;
  kind: { group?: string; version?: string; kind: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo?: { username?: string; uid?: string; groups?: string[] };
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
}

export interface AdmissionReview {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  request: AdmissionRequest;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: 'JSONPatch';
  patch?: string;
}

/** Response schema: lets Fastify serialize the hot path without reflection. */
export const admissionReviewResponseSchema = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: {
          type: 'object',
          properties: { code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } },
        },
        warnings: { type: 'array', items: { type: 'string' } },
        auditAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
        patchType: { type: 'string' },
        patch: { type: 'string' },
      },
    },
  },
} as const;
