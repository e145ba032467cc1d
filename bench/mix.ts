import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../src/engine/types.js';
import { isRecord } from '../src/util/json.js';
import { isClusterScoped, kindInfo } from '../src/util/kinds.js';
import { parseYamlDocuments } from '../src/input/yaml.js';

/**
 * The request mix: the real manifests in examples/ (parsed as kubectl does, YAML 1.1), each wrapped into the
 * AdmissionReview v1 the API server sends for `kubectl apply` of a new object. The examples have no TCP
 * Service and no Deployment without SCTP, so those are the SCTP ones with their ports switched to TCP.
 */

export const MIX_NAMES = ['services', 'workloads', 'machineconfigs'] as const;
export type MixName = (typeof MIX_NAMES)[number];

export interface MixEntry {
  /** `Kind namespace/name (what it exercises)`. */
  label: string;
  route: '/validate' | '/mutate';
  /** examples/ file it comes from. */
  source: string;
  object: KubeObject;
}

export interface BenchRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Index into the mix's entries, to tell the answers apart. */
  entry: number;
}

const MIX_OF_KIND: Record<string, MixName> = {
  Service: 'services',
  Pod: 'workloads',
  Deployment: 'workloads',
  NetworkPolicy: 'workloads',
  Gateway: 'workloads',
  MachineConfig: 'machineconfigs',
};

function withTcpPorts(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  const rename = (meta: KubeObject['metadata']) => {
    if (meta?.name) meta.name = `${meta.name}-tcp`;
  };
  rename(copy.metadata);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isRecord(value)) {
      if (value.protocol === 'SCTP') value.protocol = 'TCP';
      Object.values(value).forEach(visit);
    }
  };
  visit(copy.spec);
  return copy;
}

/**
 * Where an SCTP Pod's copies are placed: by kubelet's hostname label, by zone (provider label) minus one node, and
 * by metadata.name as the DaemonSet controller pins its pods. The names and zones exist in every generated cluster
 * of 10 nodes or more (cluster-state.ts: workers from global index 3, zone `rack-${index % 40}`), so each cluster
 * size decides the same requests through its label-value index.
 */
const PLACEMENTS: Array<[string, Record<string, unknown>]> = [
  ['pinned to one hostname', { nodeSelector: { 'kubernetes.io/hostname': 'worker-00001' } }],
  [
    'two zones but one node of them',
    {
      affinity: requiredTerms({
        matchExpressions: [
          { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['rack-4', 'rack-5'] },
          { key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['worker-00002'] },
        ],
      }),
    },
  ],
  [
    'one node by metadata.name',
    {
      affinity: requiredTerms({
        matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker-00003.ocp.example.com'] }],
      }),
    },
  ],
];

function requiredTerms(term: Record<string, unknown>): Record<string, unknown> {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } } };
}

function placed(pod: KubeObject, spec: Record<string, unknown>, n: number): KubeObject {
  const copy = structuredClone(pod);
  if (copy.metadata?.name) copy.metadata.name = `${copy.metadata.name}-placed-${n}`;
  copy.spec = { ...(copy.spec as Record<string, unknown>), ...spec };
  return copy;
}

function hasSctp(obj: KubeObject): boolean {
  return JSON.stringify(obj.spec ?? {}).includes('"SCTP"');
}

/** Reads every example manifest and sorts the kinds sctp-guard is registered for into the three mixes. */
export function loadMixes(examplesDir: string): Record<MixName, MixEntry[]> {
  const mixes: Record<MixName, MixEntry[]> = { services: [], workloads: [], machineconfigs: [] };
  const files = readdirSync(examplesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const source of files) {
    for (const doc of parseYamlDocuments(readFileSync(join(examplesDir, source), 'utf8'), source)) {
      if (!isRecord(doc.value)) continue;
      const object = doc.value as KubeObject;
      const kind = String(object.kind);
      const mix = MIX_OF_KIND[kind];
      if (!mix) continue;
      const add = (obj: KubeObject, note: string) =>
        mixes[mix].push({
          label: `${kind} ${obj.metadata?.name ?? '?'} (${note})`,
          route: mix === 'machineconfigs' ? '/mutate' : '/validate',
          source,
          object: obj,
        });
      if (kind === 'MachineConfig') {
        const version = (object.spec as { config?: { ignition?: { version?: string } } } | undefined)?.config?.ignition
          ?.version;
        add(object, `Ignition ${version ?? '?'}`);
      } else if (hasSctp(object)) {
        add(object, 'SCTP');
        if (kind === 'Service' || kind === 'Deployment') add(withTcpPorts(object), 'TCP copy');
        if (kind === 'Pod') PLACEMENTS.forEach(([what, spec], n) => add(placed(object, spec, n), `SCTP, ${what}`));
      } else {
        add(object, 'no SCTP');
      }
    }
  }
  for (const name of MIX_NAMES) {
    if (mixes[name].length === 0) throw new Error(`no ${name} manifests in ${examplesDir}`);
  }
  return mixes;
}

/**
 * The object as the API server hands it to admission on CREATE: defaulted namespace, uid, creation time,
 * kubectl's last-applied annotation and its managedFields entry (what makes real bodies about twice the manifest).
 */
export function asAdmitted(obj: KubeObject, uid: string): KubeObject {
  const object = structuredClone(obj);
  const lastApplied = JSON.stringify(obj);
  const namespaced = !isClusterScoped(String(obj.kind));
  object.metadata = {
    ...object.metadata,
    ...(namespaced ? { namespace: object.metadata?.namespace ?? 'default' } : {}),
    uid,
    creationTimestamp: '2024-05-01T10:00:00Z',
    annotations: {
      ...object.metadata?.annotations,
      'kubectl.kubernetes.io/last-applied-configuration': `${lastApplied}\n`,
    },
    managedFields: [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: object.apiVersion,
        time: '2024-05-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: fieldsV1({
          metadata: {
            annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '' },
            labels: obj.metadata?.labels,
          },
          spec: obj.spec,
        }),
      },
    ],
  };
  return object;
}

/** The field set kubectl's managedFields records: `f:` per map key, list items keyed by name or port. */
function fieldsV1(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!isRecord(item)) out[`v:${JSON.stringify(item)}`] = {};
      else if (typeof item.name === 'string')
        out[`k:${JSON.stringify({ name: item.name })}`] = { '.': {}, ...fieldsV1(item) };
      else {
        const port = item.containerPort ?? item.port;
        out[`k:${JSON.stringify({ port, protocol: item.protocol ?? 'TCP' })}`] = { '.': {}, ...fieldsV1(item) };
      }
    }
  } else if (isRecord(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[`f:${key}`] = isRecord(v) || Array.isArray(v) ? fieldsV1(v) : {};
    }
  }
  return out;
}

/** Deterministic, distinct UUIDs: the API server sends a fresh request uid per call, objects get their own. */
function serialUuid(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function admissionReview(entry: MixEntry, n: number): Record<string, unknown> {
  const uid = serialUuid('00000000', n);
  const object = asAdmitted(entry.object, serialUuid('0b1ec700', n));
  const [group, version] = String(object.apiVersion).includes('/')
    ? String(object.apiVersion).split('/')
    : ['', String(object.apiVersion)];
  const kind = String(object.kind);
  // The API server puts the resource of the kind in request.resource.
  const resource = kindInfo(group!, kind)?.resource;
  if (!resource) throw new Error(`no resource name for kind ${kind}`);
  const gvk = { group, version, kind };
  const gvr = { group, version, resource };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: object.metadata?.name,
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
      operation: 'CREATE',
      userInfo: {
        username: 'kube:admin',
        uid: 'a8b4b8e2-4bb4-4d57-9c5e-6e8d3a0e1f00',
        groups: ['system:cluster-admins', 'system:authenticated'],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'CreateOptions',
        fieldManager: 'kubectl-client-side-apply',
        fieldValidation: 'Strict',
      },
    },
  };
}

/**
 * The rotation autocannon cycles through: every entry `copies` times, interleaved, each with its own uid.
 * Bodies are built once, so the load generator spends nothing per request on them.
 */
export function buildRequests(entries: readonly MixEntry[], copies: number): BenchRequest[] {
  const out: BenchRequest[] = [];
  for (let c = 0; c < copies; c++) {
    entries.forEach((entry, i) => {
      out.push({
        method: 'POST',
        path: entry.route,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(admissionReview(entry, out.length)),
        entry: i,
      });
    });
  }
  return out;
}
