/**
 * Offline validation of manifests against the Kubernetes API schemas: kubernetes-models (the upstream OpenAPI
 * schemas compiled to ajv validators; cert-manager's CRD schemas for its kinds) for types, enums and required
 * fields, and a round trip through @kubernetes/client-node's typed models (loadYaml/dumpYaml) for unknown fields, which those schemas allow (as
 * `kubectl apply --validate=strict` would refuse a typo such as `readOnlyRootFileSystem`).
 */
import { isDeepStrictEqual } from 'node:util';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';

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
  if (Array.isArray(actual) && Array.isArray(known)) return actual.flatMap((a, i) => unknownFields(a, known[i], `${path}[${i}]`));
  if (actual && typeof actual === 'object' && known && typeof known === 'object') {
    const k = known as Record<string, unknown>;
    return Object.entries(actual as Record<string, unknown>).flatMap(([key, value]) =>
      key in k ? unknownFields(value, k[key], `${path}.${key}`) : [`${path}.${key}`.slice(1)],
    );
  }
  return [`${path.slice(1) || '(root)'}: ${JSON.stringify(actual)} does not survive the typed round trip`];
}

/** Every problem with one object; empty when it is valid. */
export async function schemaErrors(obj: { apiVersion?: string; kind?: string }): Promise<string[]> {
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind) return ['apiVersion and kind are required'];
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
