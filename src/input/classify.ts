import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { isRecord } from '../util/json.js';
import type { SkipClass } from './problems.js';

/** Why a document is not meant for the API server, and its class. */
export interface NotAnObject {
  reason: string;
  class: SkipClass;
}

/** go-yaml's goyaml.v2 leaves Go template actions in text; Helm, Argo CD and ACM hub templates write them. */
export const TEMPLATE_ACTION = /\{\{/;

/** The file names kustomize reads as a kustomization (sigs.k8s.io/kustomize `konfig.RecognizedKustomizationFileNames`). */
const KUSTOMIZATION_NAMES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

export function isKustomization(file: string): boolean {
  return KUSTOMIZATION_NAMES.has(basename(file));
}

/**
 * The files a kustomization names that are not resources: patches (`patchesStrategicMerge`, `patches[].path`,
 * `patchesJson6902[].path`), replacements, generator and transformer configs, `configMapGenerator` inputs
 * (fields of sigs.k8s.io/kustomize `api/types/kustomization.go`). kustomize merges them into the render; read on
 * their own they are partial objects or not objects at all. Keys are resolved paths, values say which field.
 */
export function kustomizeInputs(file: string, value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!isRecord(value)) return out;
  const dir = dirname(file);
  const add = (path: unknown, field: string) => {
    // Inline patches are YAML text, not a path: they hold a line break or start a mapping.
    if (typeof path !== 'string' || path === '' || /[\n{]/.test(path) || /^[a-z]+:\/\//.test(path)) return;
    out.set(resolve(join(dir, path)), `${field} of ${file}`);
  };
  const list = (key: string) => (Array.isArray(value[key]) ? (value[key] as unknown[]) : []);
  for (const p of list('patchesStrategicMerge')) add(p, 'patchesStrategicMerge');
  for (const key of ['patches', 'patchesJson6902', 'replacements'] as const)
    for (const p of list(key)) if (isRecord(p)) add(p.path, key);
  for (const key of ['generators', 'transformers', 'validators', 'configurations'] as const)
    for (const p of list(key)) add(p, key);
  for (const key of ['configMapGenerator', 'secretGenerator'] as const) {
    for (const g of list(key)) {
      if (!isRecord(g)) continue;
      for (const f of Array.isArray(g.files) ? g.files : [])
        if (typeof f === 'string') add(f.slice(f.indexOf('=') + 1), `${key} files`);
      for (const f of Array.isArray(g.envs) ? g.envs : []) add(f, `${key} envs`);
    }
  }
  for (const chart of list('helmCharts')) if (isRecord(chart)) add(chart.valuesFile, 'helmCharts valuesFile');
  return out;
}

/** openshift-install's and the agent installer's own files: they have an apiVersion of their own, no API group. */
const INSTALLER_KINDS = new Set(['InstallConfig', 'AgentConfig', 'ImageBasedInstallationConfig', 'ImageBasedConfig']);

/**
 * Why a document is not meant for the API server, or undefined when it is (or tries to be) a Kubernetes object.
 * Every object has a `kind`; a document with neither `kind` nor `metadata` (Helm's Chart.yaml has an apiVersion) is
 * something else. kustomize's own files (`kustomize.config.k8s.io`), sctp-guard's policy, the installers' configs
 * (openshift-install's `install-config.yaml` has metadata and no kind; oc-mirror's `ImageSetConfiguration`,
 * `mirror.openshift.io`, has a kind and no metadata) are read by those tools, never sent to a cluster.
 */
export function notAnObject(value: unknown): NotAnObject | undefined {
  if (!isRecord(value))
    return {
      reason: `not a Kubernetes object (a ${Array.isArray(value) ? 'sequence' : typeof value}, not a mapping with apiVersion and kind)`,
      class: 'not an object',
    };
  if (!('kind' in value) && 'baseDomain' in value)
    return { reason: "openshift-install's install-config, not a Kubernetes object", class: 'installer config' };
  if (!('kind' in value) && !('metadata' in value))
    return { reason: 'not a Kubernetes object (no apiVersion and kind)', class: 'not an object' };
  const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const kind = String(value.kind);
  if (group === 'kustomize.config.k8s.io')
    return { reason: `a kustomize ${kind}, not a Kubernetes object`, class: 'kustomize file' };
  if (group === 'sctp-guard.io')
    return { reason: `an sctp-guard ${kind} (a policy is given with --config)`, class: 'sctp-guard policy' };
  if (group === 'mirror.openshift.io')
    return { reason: `oc-mirror's ${kind}, not a Kubernetes object`, class: 'installer config' };
  if (group === '' && INSTALLER_KINDS.has(kind) && apiVersion !== 'v1')
    return { reason: `the OpenShift installer's ${kind}, not a Kubernetes object`, class: 'installer config' };
  return undefined;
}

/** The file's role in a repository, to say in one line why all of it is skipped. */
export function fileRole(file: string, skipped: readonly NotAnObject[]): NotAnObject {
  const name = basename(file).toLowerCase();
  const path = file.split(sep).join('/');
  if (skipped.every((s) => s.class === 'empty')) return { reason: 'empty (no Kubernetes objects)', class: 'empty' };
  if (name === 'chart.yaml' || name === 'chart.lock')
    return {
      reason: 'Helm chart metadata, not a Kubernetes object (render the chart with `helm template`)',
      class: 'Helm chart file',
    };
  if (/^values.*\.ya?ml$/.test(name))
    return { reason: 'Helm values, not a Kubernetes object', class: 'Helm chart file' };
  if (skipped.some((s) => s.class === 'kustomize file'))
    return {
      reason: `a kustomize file, not a Kubernetes object (check the render: \`kubectl kustomize ${dirname(file)} | sctp-guard check\`)`,
      class: 'kustomize file',
    };
  if (
    /(^|\/)\.github\/workflows\//.test(path) ||
    /(^|\/)\.tekton\//.test(path) ||
    name === '.gitlab-ci.yml' ||
    name === 'azure-pipelines.yml' ||
    name === '.travis.yml'
  )
    return { reason: 'a CI pipeline, not a Kubernetes object', class: 'CI file' };
  if (/^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(name))
    return { reason: 'a Compose file, not a Kubernetes object', class: 'Compose file' };
  return skipped[0]!;
}

/** The chart folder of a Helm template (the folder above `templates/`), for the render hint. */
export function chartDirOf(file: string): string {
  const parts = file.split(/[\\/]/);
  const templates = parts.lastIndexOf('templates');
  return templates > 0 ? parts.slice(0, templates).join('/') : templates === 0 ? '.' : 'CHART';
}

/**
 * What a folder of a GitOps tree holds when its files are not applied as they are: a program's test fixtures (Go's
 * `testdata` convention), a kube-compare reference (`kubectl cluster-compare`: a `metadata.yaml` with `parts`, whose
 * templates are compared with a cluster, never applied), or ZTP source CRs (`source-crs/`, completed by
 * PolicyGenerator/PolicyGenTemplate, `$mcp` and the like, into policies). Looked up from the file's folder to the
 * path given; undefined for a file that is none of these.
 */
export class TreeRoles {
  private readonly kubeCompare = new Map<string, boolean>();

  roleOf(file: string, root: string): NotAnObject | undefined {
    const rel = relative(root, file);
    const inside = rel !== '' && !rel.startsWith('..');
    const parts = (inside ? rel : file).split(sep).slice(0, -1);
    if (parts.some((p) => /^test-?data$/i.test(p)))
      return {
        reason: "test data (a testdata folder: fixtures of a program's tests), not applied to a cluster",
        class: 'test data',
      };
    if (parts.includes('source-crs'))
      return {
        reason:
          'a ZTP source CR (source-crs/): PolicyGenerator or PolicyGenTemplate completes it ($mcp, $name, …) into a policy; not applied as it is',
        class: 'ZTP source CR',
      };
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      if (this.isKubeCompareReference(dir))
        return {
          reason: `a kube-compare reference template (${join(dir, 'metadata.yaml')}): compared with a cluster by kubectl cluster-compare, never applied`,
          class: 'kube-compare reference',
        };
      if (!inside || resolve(dir) === resolve(root) || dirname(dir) === dir) return undefined;
    }
  }

  private isKubeCompareReference(dir: string): boolean {
    let known = this.kubeCompare.get(dir);
    if (known === undefined) {
      const metadata = join(dir, 'metadata.yaml');
      // A kube-compare reference is a folder with a metadata.yaml listing its `parts` (openshift/kube-compare README, docs/reference-config-guide.md).
      known =
        existsSync(metadata) &&
        statSync(metadata).size < 2 ** 20 &&
        /^parts:\s*$/m.test(readFileSync(metadata, 'utf8'));
      this.kubeCompare.set(dir, known);
    }
    return known;
  }
}
