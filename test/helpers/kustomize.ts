/** `kubectl kustomize` (the real one: /usr/bin/kubectl, Debian kubernetes-client), as plain objects in order. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoPath } from './repo.js';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

/** Parses YAML as kustomize (Go yaml.v3) does for these files: YAML 1.2 core schema. */
export function readYamlDocuments(file: string): unknown[] {
  return parseYamlText(readFileSync(file, 'utf8'), file);
}

function parseYamlText(text: string, where: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${where}: ${d.errors[0]!.message}`);
      return d.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

const cache = new Map<string, K8sObject[]>();

/** `kubectl kustomize DIR`; a kustomize error (stderr) is thrown as is. Cached per directory: deploy/ is static. */
export function kustomizeBuild(dir: string, options: { cache?: boolean } = {}): K8sObject[] {
  const path = resolve(dir);
  const hit = options.cache === false ? undefined : cache.get(path);
  if (hit) return structuredClone(hit);
  let out: string;
  try {
    // GOGC=off: a render lives a fraction of a second, and Go's collector was a third of its CPU.
    out = execFileSync('kubectl', ['kustomize', path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOGC: 'off' },
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('kubectl is not installed: .ci/run installs it (Debian kubernetes-client)');
    throw new Error(`kubectl kustomize ${dir}: ${e.stderr?.trim() || e.message}`);
  }
  const objects = parseYamlText(out, `kubectl kustomize ${dir}`) as K8sObject[];
  if (options.cache !== false) cache.set(path, objects);
  return structuredClone(objects);
}

export const DEPLOY_DIR = repoPath('deploy');

/** Every kustomization a user applies (and the shared webhooks folder). */
export const DEPLOY_KUSTOMIZATIONS = [
  'base',
  'webhooks',
  'overlays/openshift',
  'overlays/openshift-legacy',
  'overlays/cert-manager',
  'overlays/dev',
];
