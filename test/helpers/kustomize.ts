/**
 * A kustomize renderer for exactly the features deploy/ uses, so the tests need nothing beyond `npm ci`:
 * `resources` (files and kustomization folders), `components` (kind: Component), and `patches` with either a
 * JSON 6902 patch and a `target` (group, version, kind, name, namespace), or a strategic-merge patch that only
 * merges maps (no list may appear: list merge keys need the OpenAPI patch metadata, which this does not have).
 * Anything else is an error, never silently skipped. test/deploy/kustomize.test.ts compares the output with
 * the real `kubectl kustomize` wherever kubectl is installed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface PatchEntry {
  path?: string;
  patch?: string;
  target?: Target;
  options?: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  patches?: PatchEntry[];
  [key: string]: unknown;
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'components', 'patches']);
const SUPPORTED_TARGET = new Set(['group', 'version', 'kind', 'name', 'namespace']);

export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

/** Parses YAML as kustomize (Go yaml.v3) does for these files: YAML 1.2 core schema. */
export function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new KustomizeError(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

function kustomizationFile(dir: string): string {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new KustomizeError(`${dir}: no kustomization.yaml`);
}

function loadKustomization(dir: string, expectKind: 'Kustomization' | 'Component'): Kustomization {
  const file = kustomizationFile(dir);
  const [k] = readYamlDocuments(file) as Kustomization[];
  if (!k) throw new KustomizeError(`${file}: empty`);
  const kind = k.kind ?? 'Kustomization';
  if (kind !== expectKind) throw new KustomizeError(`${file}: kind ${kind} where a ${expectKind} is expected`);
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(key)) throw new KustomizeError(`${file}: field "${key}" is not supported by this renderer`);
  }
  return k;
}

function id(o: K8sObject): string {
  return `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

function addResources(into: K8sObject[], more: K8sObject[], where: string): void {
  for (const o of more) {
    if (!o?.apiVersion || !o.kind || !o.metadata?.name) throw new KustomizeError(`${where}: a resource without apiVersion, kind or metadata.name`);
    if (into.some((x) => id(x) === id(o))) throw new KustomizeError(`${where}: ${o.kind} ${o.metadata.name} is defined twice`);
    into.push(o);
  }
}

function matches(o: K8sObject, t: Target): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return (
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version) &&
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === o.metadata.name) &&
    (t.namespace === undefined || t.namespace === (o.metadata.namespace ?? ''))
  );
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge restricted to maps: keys merge recursively, `null` deletes, scalars replace. */
function mergeMaps(target: Record<string, unknown>, patch: Record<string, unknown>, where: string): void {
  for (const [key, value] of Object.entries(patch)) {
    if (Array.isArray(value)) throw new KustomizeError(`${where}: list at "${key}" in a strategic-merge patch is not supported by this renderer`);
    if (key.startsWith('$')) throw new KustomizeError(`${where}: directive ${key} is not supported by this renderer`);
    if (value === null) delete target[key];
    else if (isMap(value) && isMap(target[key])) mergeMaps(target[key] as Record<string, unknown>, value, where);
    else target[key] = structuredClone(value);
  }
}

function applyPatch(resources: K8sObject[], entry: PatchEntry, dir: string): void {
  const where = `${dir}: patch ${entry.path ?? '(inline)'}`;
  if (entry.options !== undefined) throw new KustomizeError(`${where}: patch options are not supported by this renderer`);
  if ((entry.path === undefined) === (entry.patch === undefined)) throw new KustomizeError(`${where}: exactly one of path and patch`);
  const text = entry.path !== undefined ? readFileSync(resolve(dir, entry.path), 'utf8') : entry.patch!;
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  if (docs.length !== 1) throw new KustomizeError(`${where}: one document expected, got ${docs.length}`);
  const body = docs[0];
  if (Array.isArray(body)) {
    if (!entry.target) throw new KustomizeError(`${where}: a JSON 6902 patch needs a target`);
    for (const key of Object.keys(entry.target)) {
      if (!SUPPORTED_TARGET.has(key)) throw new KustomizeError(`${where}: target field "${key}" is not supported by this renderer`);
    }
    const hits = resources.filter((o) => matches(o, entry.target!));
    if (hits.length === 0) throw new KustomizeError(`${where}: target ${JSON.stringify(entry.target)} matches no resource`);
    for (const o of hits) {
      try {
        const patched = fastJsonPatch.applyPatch(structuredClone(o), body as Operation[], true, false).newDocument;
        resources[resources.indexOf(o)] = patched;
      } catch (err) {
        throw new KustomizeError(`${where} on ${o.kind} ${o.metadata.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    return;
  }
  if (!isMap(body)) throw new KustomizeError(`${where}: neither a JSON 6902 list nor an object`);
  const smp = body as K8sObject;
  const target: Target = entry.target ?? { kind: smp.kind, name: smp.metadata?.name };
  const hits = resources.filter((o) => matches(o, target) && (entry.target !== undefined || o.apiVersion === smp.apiVersion));
  if (hits.length === 0) throw new KustomizeError(`${where}: ${smp.kind} ${smp.metadata?.name} matches no resource`);
  for (const o of hits) {
    const { apiVersion: _a, kind: _k, ...rest } = smp;
    const patch = { ...rest, metadata: Object.fromEntries(Object.entries(smp.metadata ?? {}).filter(([k]) => k !== 'name' && k !== 'namespace')) };
    mergeMaps(o as Record<string, unknown>, patch, where);
  }
}

function build(dir: string, kind: 'Kustomization' | 'Component', inherited: K8sObject[] = []): K8sObject[] {
  const k = loadKustomization(dir, kind);
  const resources: K8sObject[] = inherited;
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new KustomizeError(`${dir}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) addResources(resources, build(path, 'Kustomization'), `${dir}/${entry}`);
    else addResources(resources, readYamlDocuments(path) as K8sObject[], path);
  }
  // As kustomize does: components see everything accumulated so far and run before this level's patches.
  for (const entry of k.components ?? []) build(resolve(dir, entry), 'Component', resources);
  for (const entry of k.patches ?? []) applyPatch(resources, entry, dir);
  return resources;
}

/** `kustomize build DIR`, as plain objects in resource order. */
export function kustomizeBuild(dir: string): K8sObject[] {
  return build(resolve(dir), 'Kustomization');
}

export const DEPLOY_DIR = resolve(dirname(new URL(import.meta.url).pathname), '../../deploy');

/** Every kustomization a user applies (and the shared webhooks folder). */
export const DEPLOY_KUSTOMIZATIONS = ['base', 'webhooks', 'overlays/openshift', 'overlays/openshift-legacy', 'overlays/cert-manager', 'overlays/dev'];
