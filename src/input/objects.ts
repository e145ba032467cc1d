import { isRecord } from '../util/json.js';
import { escapePointer } from '../util/json-pointer.js';
import type { InputProblem } from './problems.js';
import type { ParsedDocument } from './yaml.js';

/** A Kubernetes object as read from a manifest (the engine's KubeObject has this shape). */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One Kubernetes object and where it was written. */
export interface SourcedObject {
  object: ManifestObject;
  file: string;
  /** 1-based line where the object starts (for a List item: the item). */
  line: number;
  /** 1-based line of a field of this object, by JSON Pointer from the object (`/spec/ports/0/protocol`). */
  lineOf(pointer: string): number;
}

export interface ObjectsOut {
  objects: SourcedObject[];
  problems: InputProblem[];
}

/**
 * The objects of one document, into `out`: a List expanded into its items, a malformed object (no apiVersion/kind,
 * metadata the API server rejects) as a problem at the line of the mistake.
 */
export function collectObjects(
  out: ObjectsOut,
  value: unknown,
  pointer: string,
  doc: ParsedDocument,
  file: string,
): void {
  const line = doc.lineOf(pointer);
  const problem = (message: string, at = pointer) => out.problems.push({ file, line: doc.lineOf(at), message });
  if (!isRecord(value)) {
    problem(
      `not a Kubernetes object: expected a mapping with apiVersion and kind, found ${Array.isArray(value) ? 'a sequence' : `the ${typeof value} ${JSON.stringify(value)}`}`,
    );
    return;
  }
  const missing = (['apiVersion', 'kind'] as const).filter((k) => typeof value[k] !== 'string' || value[k] === '');
  if (missing.length > 0) {
    problem(
      `not a Kubernetes object: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (every object needs apiVersion and kind)`,
    );
    return;
  }
  const kind = value.kind as string;
  // kubectl expands `kind: List` and typed lists (`ServiceList` from `kubectl get -o yaml`) alike.
  if (kind.endsWith('List') && 'items' in value) {
    if (!Array.isArray(value.items)) {
      problem(`${kind}: items must be a sequence of objects`, `${pointer}/items`);
      return;
    }
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    value.items.forEach((item, i) => {
      // Items of a typed list, as the API server returns them, carry no apiVersion/kind of their own.
      const filled = isRecord(item) && itemKind ? { apiVersion: value.apiVersion, kind: itemKind, ...item } : item;
      collectObjects(out, filled, `${pointer}/items/${i}`, doc, file);
    });
    return;
  }
  const metaProblem = metadataProblem(value, pointer);
  if (metaProblem) {
    problem(`${kind}${nameSuffix(value)}: ${metaProblem.message}`, metaProblem.pointer);
    return;
  }
  out.objects.push({
    object: value as ManifestObject,
    file,
    line,
    lineOf: (field) => doc.lineOf(`${pointer}${field}`),
  });
}

function nameSuffix(obj: Record<string, unknown>): string {
  const meta = obj.metadata;
  return isRecord(meta) && typeof meta.name === 'string' ? ` ${meta.name}` : '';
}

/** ObjectMeta's fields (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`); kubectl's strict validation rejects others. */
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

/** Fields that belong at an object's top level: found under metadata, they were indented one level too deep. */
const TOP_LEVEL_FIELDS = new Set([
  'spec',
  'data',
  'stringData',
  'binaryData',
  'type',
  'rules',
  'subjects',
  'roleRef',
  'webhooks',
  'items',
  'status',
  'immutable',
]);

/**
 * The mistakes in `metadata` that make the API server refuse an object: the common one is a `spec` indented under
 * `metadata` (published in an SCTP NetworkPolicy walkthrough), which kubectl rejects as `unknown field
 * "metadata.spec"` and which leaves the object without its spec.
 */
function metadataProblem(
  obj: Record<string, unknown>,
  pointer: string,
): { message: string; pointer: string } | undefined {
  const meta = obj.metadata;
  if (meta === undefined) return { message: 'metadata is missing (an object needs metadata.name)', pointer };
  if (!isRecord(meta)) return { message: 'metadata must be a mapping', pointer: `${pointer}/metadata` };
  for (const key of Object.keys(meta)) {
    if (OBJECT_META_FIELDS.has(key)) continue;
    const at = `${pointer}/metadata/${escapePointer(key)}`;
    if (TOP_LEVEL_FIELDS.has(key)) {
      const alsoTop = key in obj ? ` (the object also has a top-level ${key}: remove one)` : '';
      return {
        message: `"${key}" is indented under metadata; it belongs at the top level of the object, next to metadata${alsoTop}. kubectl rejects this (unknown field "metadata.${key}"). Fix: outdent "${key}:" and its block by one level`,
        pointer: at,
      };
    }
    return {
      message: `metadata has an unknown field "${key}" (kubectl rejects it: unknown field "metadata.${key}")`,
      pointer: at,
    };
  }
  if (typeof meta.name !== 'string' && typeof meta.generateName !== 'string') {
    return { message: 'metadata.name is missing (or not a string)', pointer: `${pointer}/metadata` };
  }
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string') {
    return { message: notAString('metadata.namespace', meta.namespace), pointer: `${pointer}/metadata/namespace` };
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined || map === null) continue;
    if (!isRecord(map))
      return { message: `metadata.${field} must be a mapping`, pointer: `${pointer}/metadata/${field}` };
    for (const [key, value] of Object.entries(map)) {
      if (typeof value === 'string') continue;
      return {
        message: notAString(`metadata.${field}["${key}"]`, value),
        pointer: `${pointer}/metadata/${field}/${escapePointer(key)}`,
      };
    }
  }
  return undefined;
}

function notAString(field: string, value: unknown): string {
  const what = value === null ? 'null' : `the ${typeof value} ${JSON.stringify(value)}`;
  return `${field} is ${what}, not a string (YAML 1.1 reads unquoted true, n, yes, on, 1.0 as other types); the API server rejects it. Fix: put the value in quotes`;
}
