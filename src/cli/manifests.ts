import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { KubeObject } from '../engine/types.js';
import { parseYamlDocuments, YamlSyntaxError, type ParsedDocument } from '../input/yaml.js';
import { isRecord } from '../util/json.js';
import { escapePointer } from '../util/json-pointer.js';

/** The path that means "read standard input" (`kubectl apply -f -`, `kustomize build | sctp-guard check -f -`). */
export const STDIN_PATH = '-';
/** How stdin is named in messages. */
export const STDIN_NAME = '<stdin>';

/** Extensions read when a folder is given (kubectl's `-R`). A file named explicitly is read whatever its name. */
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** One Kubernetes object and where it was written. */
export interface SourcedObject {
  object: KubeObject;
  file: string;
  /** 1-based line where the object starts (for a List item: the item). */
  line: number;
}

/** Input that is not a usable Kubernetes object; `line` 0 means the whole file. */
export interface InputProblem {
  file: string;
  line: number;
  message: string;
}

export interface Manifests {
  objects: SourcedObject[];
  problems: InputProblem[];
  /** Every file read, in order (folders expanded). */
  files: string[];
}

export function formatLocation(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}

export function formatProblem(p: InputProblem): string {
  return `${formatLocation(p.file, p.line)}: ${p.message}`;
}

/**
 * Reads files, folders (recursively: *.yaml, *.yml, *.json, in name order) and stdin the way kubectl does: every
 * document of a multi-document stream, List kinds expanded, YAML 1.1 scalars (`0644` is 420). Problems are
 * collected, never thrown, so that one bad file does not hide the findings of the others.
 */
export function readManifests(paths: readonly string[], readStdin: () => string = () => readFileSync(0, 'utf8')): Manifests {
  const out: Manifests = { objects: [], problems: [], files: [] };
  for (const path of paths) {
    if (path === STDIN_PATH) {
      read(out, STDIN_NAME, readStdin);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      out.problems.push({ file: path, line: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    if (!isDir) read(out, path, () => readFileSync(path, 'utf8'));
    else {
      const files = manifestFilesIn(path, new Set());
      if (files.length === 0) out.problems.push({ file: path, line: 0, message: 'folder holds no *.yaml, *.yml or *.json file' });
      for (const file of files) read(out, file, () => readFileSync(file, 'utf8'));
    }
  }
  if (out.objects.length === 0 && out.problems.length === 0) {
    out.problems.push({ file: paths.join(', '), line: 0, message: 'no Kubernetes objects in the input' });
  }
  return out;
}

function read(out: Manifests, file: string, load: () => string): void {
  out.files.push(file);
  let text: string;
  try {
    text = load();
  } catch (err) {
    out.problems.push({ file, line: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return;
  }
  const parsed = parseManifests(text, file);
  out.objects.push(...parsed.objects);
  out.problems.push(...parsed.problems);
}

/** `seen` holds real paths already walked, so that a symlink loop ends. */
function manifestFilesIn(dir: string, seen: Set<string>): string[] {
  const real = realpathSync(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) out.push(...manifestFilesIn(path, seen));
    else if (stat?.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
  }
  return out;
}

/** The objects of one YAML or JSON text (JSON is read as YAML, as kubectl does, which keeps line numbers). */
export function parseManifests(text: string, file: string): Pick<Manifests, 'objects' | 'problems'> {
  const out: Pick<Manifests, 'objects' | 'problems'> = { objects: [], problems: [] };
  let docs: ParsedDocument[];
  try {
    docs = parseYamlDocuments(text, file);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    out.problems.push({ file, line: err.line, message: `YAML syntax error: ${err.reason}` });
    return out;
  }
  for (const doc of docs) collect(out, doc.value, '', doc, file);
  return out;
}

function collect(out: Pick<Manifests, 'objects' | 'problems'>, value: unknown, pointer: string, doc: ParsedDocument, file: string): void {
  const line = doc.lineOf(pointer);
  const problem = (message: string, at = pointer) => out.problems.push({ file, line: doc.lineOf(at), message });
  if (!isRecord(value)) {
    problem(`not a Kubernetes object: expected a mapping with apiVersion and kind, found ${Array.isArray(value) ? 'a sequence' : `the ${typeof value} ${JSON.stringify(value)}`}`);
    return;
  }
  const missing = (['apiVersion', 'kind'] as const).filter((k) => typeof value[k] !== 'string' || value[k] === '');
  if (missing.length > 0) {
    problem(`not a Kubernetes object: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (every object needs apiVersion and kind)`);
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
      collect(out, filled, `${pointer}/items/${i}`, doc, file);
    });
    return;
  }
  const metaProblem = metadataProblem(value, pointer);
  if (metaProblem) {
    problem(`${kind}${nameSuffix(value)}: ${metaProblem.message}`, metaProblem.pointer);
    return;
  }
  out.objects.push({ object: value as KubeObject, file, line });
}

function nameSuffix(obj: Record<string, unknown>): string {
  const meta = obj.metadata;
  return isRecord(meta) && typeof meta.name === 'string' ? ` ${meta.name}` : '';
}

/** ObjectMeta's fields (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`); kubectl's strict validation rejects others. */
const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

/** Fields that belong at an object's top level: found under metadata, they were indented one level too deep. */
const TOP_LEVEL_FIELDS = new Set(['spec', 'data', 'stringData', 'binaryData', 'type', 'rules', 'subjects', 'roleRef', 'webhooks', 'items', 'status', 'immutable']);

/**
 * The mistakes in `metadata` that make the API server refuse an object: the common one is a `spec` indented under
 * `metadata` (published in an SCTP NetworkPolicy walkthrough), which kubectl rejects as `unknown field
 * "metadata.spec"` and which leaves the object without its spec.
 */
function metadataProblem(obj: Record<string, unknown>, pointer: string): { message: string; pointer: string } | undefined {
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
    return { message: `metadata has an unknown field "${key}" (kubectl rejects it: unknown field "metadata.${key}")`, pointer: at };
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
    if (!isRecord(map)) return { message: `metadata.${field} must be a mapping`, pointer: `${pointer}/metadata/${field}` };
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
