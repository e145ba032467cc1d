/**
 * Offline validation of manifests against the Kubernetes API schemas: kubernetes-models (the upstream OpenAPI
 * schemas compiled to ajv validators; cert-manager's CRD schemas for its kinds) for types, enums and required
 * fields, and a round trip through @kubernetes/client-node's typed models (loadYaml/dumpYaml) for unknown fields, which those schemas allow (as
 * `kubectl apply --validate=strict` would refuse a typo such as `readOnlyRootFileSystem`). The report kinds
 * (wg-policy PolicyReport, OpenReports Report) are checked against their upstream CRD schemas, kept in
 * test/fixtures/report-crds (each names its repository and commit).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
// The serializer alone: the package's index loads every API client too, most of a second per test file.
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse, stringify } from 'yaml';
import { repoPath } from './repo.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** apiVersion → module that exports one class per kind. */
function modelModule(apiVersion: string): string {
  if (apiVersion.startsWith('cert-manager.io/')) return `@kubernetes-models/cert-manager/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  try {
    const mod = (await import(modelModule(apiVersion))) as Record<string, ModelClass>;
    return mod[kind];
  } catch {
    return undefined;
  }
}

/** Paths where `actual` has something `known` (the client's typed round trip) dropped. */
function unknownFields(actual: unknown, known: unknown, path = ''): string[] {
  if (isDeepStrictEqual(actual, known)) return [];
  if (Array.isArray(actual) && Array.isArray(known))
    return actual.flatMap((a, i) => unknownFields(a, known[i], `${path}[${i}]`));
  if (actual && typeof actual === 'object' && known && typeof known === 'object') {
    const k = known as Record<string, unknown>;
    return Object.entries(actual as Record<string, unknown>).flatMap(([key, value]) =>
      key in k ? unknownFields(value, k[key], `${path}.${key}`) : [`${path}.${key}`.slice(1)],
    );
  }
  return [`${path.slice(1) || '(root)'}: ${JSON.stringify(actual)} does not survive the typed round trip`];
}

interface CrdFixture {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  schema: Record<string, unknown>;
}

const CRD_DIR = repoPath('test/fixtures/report-crds');
export const REPORT_CRDS: CrdFixture[] = readdirSync(CRD_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(CRD_DIR, f), 'utf8')) as CrdFixture);

// What the API server keeps of any object's metadata that a report generator sets.
const OBJECT_META = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    resourceVersion: { type: 'string' },
    uid: { type: 'string' },
  },
};

/**
 * A structural CRD schema as JSON Schema that also refuses unknown fields: the API server prunes them silently,
 * so a field the CRD does not define is a field the report's readers never see.
 */
function strictSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strictSchema);
  if (!s || typeof s !== 'object') return s;
  const out = Object.fromEntries(
    Object.entries(s).map(([k, v]) => [
      k,
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, strictSchema(ps)]))
        : strictSchema(v),
    ]),
  );
  if ('properties' in out && !('additionalProperties' in out) && !out['x-kubernetes-preserve-unknown-fields'])
    out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('int32', {
  type: 'number',
  validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
});
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
const crdValidators = new Map<string, { crd: CrdFixture; validate: ValidateFunction }>(
  REPORT_CRDS.map((crd) => {
    const schema = strictSchema(crd.schema) as { properties: Record<string, unknown> };
    const validate = ajv.compile({
      ...schema,
      required: ['apiVersion', 'kind', 'metadata'],
      properties: { ...schema.properties, metadata: OBJECT_META },
    });
    return [`${crd.group}/${crd.version}/${crd.kind}`, { crd, validate }];
  }),
);

function crdErrors(obj: {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string };
}): string[] | undefined {
  const entry = crdValidators.get(`${obj.apiVersion}/${obj.kind}`);
  if (!entry) return undefined;
  const errors = entry.validate(obj)
    ? []
    : (entry.validate.errors ?? []).map(
        (e) =>
          `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
      );
  const namespaced = entry.crd.scope === 'Namespaced';
  if (namespaced !== (obj.metadata?.namespace !== undefined))
    errors.push(
      `${obj.kind} is ${namespaced ? 'namespaced: metadata.namespace is required' : 'cluster-scoped: metadata.namespace must be absent'}`,
    );
  return errors;
}

/** Every problem with one object; empty when it is valid. */
export async function schemaErrors(obj: {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string };
}): Promise<string[]> {
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind) return ['apiVersion and kind are required'];
  const crd = crdErrors(obj);
  if (crd) return crd;
  const Model = await modelClass(apiVersion, kind);
  if (!Model) return [`no schema for ${apiVersion} ${kind}`];
  const errors: string[] = [];
  try {
    new Model(obj).validate();
  } catch (err) {
    errors.push((err as Error).message);
  }
  // The client knows the built-in kinds only; cert-manager's CRD schemas are checked by kubernetes-models above.
  if (!apiVersion.startsWith('cert-manager.io/')) {
    const roundTrip = parse(dumpYaml(loadYaml(stringify(obj)))) as unknown;
    errors.push(...unknownFields(obj, roundTrip).map((p) => `unknown field ${p}`));
  }
  return errors;
}
