import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, normalize, sep } from 'node:path';
import { minimatch } from 'minimatch';
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
  /** 1-based line of a field of this object, by JSON Pointer from the object (`/spec/ports/0/protocol`). */
  lineOf(pointer: string): number;
}

/** Input that is not a usable Kubernetes object (or, for notices, a file skipped on purpose); `line` 0: the whole file. */
export interface InputProblem {
  file: string;
  line: number;
  message: string;
}

export interface Manifests {
  objects: SourcedObject[];
  /** Input that could not be read, or a Kubernetes object that is malformed: exit 2. */
  problems: InputProblem[];
  /** Files skipped on purpose (Helm charts, kustomizations, CI files, empty files): one line each, not errors. */
  notices: InputProblem[];
  /** Every file read, in order (folders expanded). */
  files: string[];
}

export interface ReadOptions {
  /** Globs of paths to leave out (`charts/**`, `*.tmpl.yaml`): without a `/` a glob matches a file or folder name anywhere. */
  exclude?: readonly string[];
  readStdin?: () => string;
}

export function formatLocation(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}

export function formatProblem(p: InputProblem): string {
  return `${formatLocation(p.file, p.line)}: ${p.message}`;
}

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Reads files, folders (recursively: *.yaml, *.yml, *.json, in name order, dot-folders left out) and stdin the way
 * kubectl does: every document of a multi-document stream, List kinds expanded, YAML 1.1 scalars (`0644` is 420). A
 * quoted glob (`-f 'apps/**\/*.yaml'`) is expanded as a shell would. What a repository holds next to its manifests
 * (Helm charts, kustomizations, CI workflows, compose files) is skipped with a notice. Problems are collected, never
 * thrown, so that one bad file does not hide the findings of the others.
 */
export function readManifests(paths: readonly string[], options: ReadOptions = {}): Manifests {
  const out: Manifests = { objects: [], problems: [], notices: [], files: [] };
  const excluded = exclusionTest(options.exclude ?? []);
  const readStdin = options.readStdin ?? (() => readFileSync(0, 'utf8'));
  for (const path of paths) {
    if (path === STDIN_PATH) {
      read(out, STDIN_NAME, readStdin);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && GLOB_CHARS.test(path)) {
        const matches = globMatches(path, excluded);
        if (matches.length === 0) out.problems.push({ file: path, line: 0, message: 'no file or folder matches this pattern' });
        for (const m of matches) readPath(out, m.path, m.isDir, excluded);
        continue;
      }
      out.problems.push({ file: path, line: 0, message: `cannot read: ${code ?? (err as Error).message}` });
      continue;
    }
    if (excluded(path, isDir)) continue;
    readPath(out, path, isDir, excluded);
  }
  if (out.objects.length === 0 && out.problems.length === 0) {
    const skipped = out.notices.length > 0 ? ` (${out.notices.length} file${out.notices.length === 1 ? '' : 's'} skipped, see above)` : '';
    out.problems.push({ file: paths.map((p) => (p === STDIN_PATH ? STDIN_NAME : p)).join(', '), line: 0, message: `no Kubernetes objects in the input${skipped}` });
  }
  return out;
}

type Excluded = (path: string, isDir: boolean) => boolean;

function exclusionTest(globs: readonly string[]): Excluded {
  if (globs.length === 0) return () => false;
  return (path, isDir) => {
    const rel = normalize(path).split(sep).join('/');
    const candidates = isDir ? [rel, `${rel}/`] : [rel];
    return globs.some((g) => candidates.some((c) => minimatch(c, g, { dot: true, matchBase: !g.includes('/') })));
  };
}

function readPath(out: Manifests, path: string, isDir: boolean, excluded: Excluded): void {
  if (!isDir) {
    read(out, path, () => readFileSync(path, 'utf8'));
    return;
  }
  const files = manifestFilesIn(path, new Set(), excluded);
  if (files.length === 0) out.notices.push({ file: path, line: 0, message: 'skipped: the folder holds no *.yaml, *.yml or *.json file' });
  for (const file of files) read(out, file, () => readFileSync(file, 'utf8'));
}

/** What a shell would expand an unquoted glob to, walking from its first literal folder; dot-entries only when named. */
function globMatches(pattern: string, excluded: Excluded): Array<{ path: string; isDir: boolean }> {
  const parts = pattern.split('/');
  const literal = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, literal).join('/') || (pattern.startsWith('/') ? '/' : '.');
  const out: Array<{ path: string; isDir: boolean }> = [];
  const walk = (dir: string, seen: Set<string>) => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = dir === '.' ? entry.name : join(dir, entry.name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat || excluded(path, stat.isDirectory())) continue;
      if (minimatch(path, pattern, { dot: false })) out.push({ path, isDir: stat.isDirectory() });
      else if (stat.isDirectory() && !entry.name.startsWith('.')) walk(path, seen);
    }
  };
  walk(base, new Set());
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
  const template = helmTemplateLine(text);
  if (template > 0) {
    out.notices.push({ file, line: template, message: `skipped: a Helm template ({{ … }}): render it first, e.g. \`helm template ${chartDirOf(file)} | sctp-guard check\`` });
    return;
  }
  const parsed = parseManifests(text, file);
  out.objects.push(...parsed.objects);
  out.problems.push(...parsed.problems);
  if (parsed.skipped.length > 0 && parsed.objects.length === 0 && parsed.problems.length === 0) {
    out.notices.push({ file, line: 0, message: `skipped: ${whatFileIs(file, parsed.skipped)}` });
  } else {
    for (const s of parsed.skipped) out.notices.push({ file, line: s.line, message: `skipped: ${s.reason}` });
  }
}

/** The first line holding a Go template action: Helm renders these before any YAML parser may read the file. */
function helmTemplateLine(text: string): number {
  const at = text.search(/\{\{-?\s*[^}]*\}\}/);
  return at < 0 ? 0 : text.slice(0, at).split('\n').length;
}

function chartDirOf(file: string): string {
  const parts = file.split(/[\\/]/);
  const templates = parts.lastIndexOf('templates');
  return templates > 0 ? parts.slice(0, templates).join('/') : templates === 0 ? '.' : 'CHART';
}

/** The file's role in a repository, to say in one line why it is skipped; the decision itself is by content. */
function whatFileIs(file: string, skipped: readonly Skipped[]): string {
  const name = basename(file).toLowerCase();
  const path = file.split(sep).join('/');
  if (skipped.every((s) => s.reason.startsWith('empty'))) return 'empty (no Kubernetes objects)';
  if (name === 'chart.yaml' || name === 'chart.lock') return 'Helm chart metadata, not a Kubernetes object (render the chart with `helm template`)';
  if (/^values.*\.ya?ml$/.test(name)) return 'Helm values, not a Kubernetes object';
  if (skipped.some((s) => s.reason.startsWith('a kustomize'))) return `a kustomize file, not a Kubernetes object (check the render: \`kubectl kustomize ${dirname(file)} | sctp-guard check\`)`;
  if (/(^|\/)\.github\/workflows\//.test(path) || name === '.gitlab-ci.yml' || name === 'azure-pipelines.yml') return 'a CI pipeline, not a Kubernetes object';
  if (/^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(name)) return 'a Compose file, not a Kubernetes object';
  return skipped[0]!.reason;
}

/** `seen` holds real paths already walked, so that a symlink loop ends. Dot-folders (.git, .github) are not read. */
function manifestFilesIn(dir: string, seen: Set<string>, excluded: Excluded): string[] {
  const real = realpathSync(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat || excluded(path, stat.isDirectory())) continue;
    if (stat.isDirectory()) {
      if (!entry.name.startsWith('.')) out.push(...manifestFilesIn(path, seen, excluded));
    } else if (stat.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
  }
  return out;
}

/** A document that is not a Kubernetes object, and why. */
export interface Skipped {
  line: number;
  reason: string;
}

type Parsed = Pick<Manifests, 'objects' | 'problems'> & { skipped: Skipped[] };

/** The objects of one YAML or JSON text (JSON is read as YAML, as kubectl does, which keeps line numbers). */
export function parseManifests(text: string, file: string): Parsed {
  const out: Parsed = { objects: [], problems: [], skipped: [] };
  let docs: ParsedDocument[];
  try {
    docs = parseYamlDocuments(text, file);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    out.problems.push({ file, line: err.line, message: `YAML syntax error: ${err.reason}` });
    return out;
  }
  if (docs.length === 0) out.skipped.push({ line: 0, reason: 'empty (no Kubernetes objects)' });
  for (const doc of docs) {
    const reason = notAnObject(doc.value);
    if (reason) out.skipped.push({ line: doc.line, reason });
    else collect(out, doc.value, '', doc, file);
  }
  return out;
}

/**
 * Why a document is not meant for the API server, or undefined when it is (or tries to be) a Kubernetes object.
 * Every object has a `kind`; a document with neither `kind` nor `metadata` (Helm's Chart.yaml has an apiVersion) is
 * something else. kustomize's own files (`kustomize.config.k8s.io`) and sctp-guard's policy are read by those tools,
 * never sent to a cluster.
 */
function notAnObject(value: unknown): string | undefined {
  if (!isRecord(value)) return `not a Kubernetes object (a ${Array.isArray(value) ? 'sequence' : typeof value}, not a mapping with apiVersion and kind)`;
  if (!('kind' in value) && !('metadata' in value)) return 'not a Kubernetes object (no apiVersion and kind)';
  const group = typeof value.apiVersion === 'string' ? value.apiVersion.split('/')[0] : '';
  if (group === 'kustomize.config.k8s.io') return `a kustomize ${String(value.kind)}, not a Kubernetes object`;
  if (group === 'sctp-guard.io') return `an sctp-guard ${String(value.kind)} (a policy is given with --config)`;
  return undefined;
}

function collect(out: Parsed, value: unknown, pointer: string, doc: ParsedDocument, file: string): void {
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
  out.objects.push({ object: value as KubeObject, file, line, lineOf: (field) => doc.lineOf(`${pointer}${field}`) });
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
