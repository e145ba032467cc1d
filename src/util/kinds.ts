/**
 * The one table of the Kubernetes kinds sctp-guard reads: API group, served versions (preferred first), resource
 * name, scope and where a pod spec lives. The rules' `matches`, the webhook configurations, `audit`, the informers,
 * the tests and the bench read it from here. Sources: k8s.io/api (core, apps, batch, networking), openshift/api
 * (machineconfiguration/v1, config/v1, operator/v1), the Gateway APIs (gateway.networking.k8s.io and AKO's networking.x-k8s.io).
 */
export interface KindInfo {
  readonly kind: string;
  readonly group: string;
  readonly versions: readonly string[];
  readonly resource: string;
  readonly namespaced: boolean;
  /** Where the pod spec sits in objects of a Pod or a pod controller (Kyverno's autogen idea). */
  readonly podSpecPath?: readonly string[];
  /** Cap on a list page: rendered MachineConfigs are hundreds of KB each. */
  readonly maxPageSize?: number;
}

const TEMPLATE = ['spec', 'template', 'spec'] as const;

export const KINDS = {
  Pod: { kind: 'Pod', group: '', versions: ['v1'], resource: 'pods', namespaced: true, podSpecPath: ['spec'] },
  ReplicationController: {
    kind: 'ReplicationController',
    group: '',
    versions: ['v1'],
    resource: 'replicationcontrollers',
    namespaced: true,
    podSpecPath: TEMPLATE,
  },
  Deployment: {
    kind: 'Deployment',
    group: 'apps',
    versions: ['v1'],
    resource: 'deployments',
    namespaced: true,
    podSpecPath: TEMPLATE,
  },
  StatefulSet: {
    kind: 'StatefulSet',
    group: 'apps',
    versions: ['v1'],
    resource: 'statefulsets',
    namespaced: true,
    podSpecPath: TEMPLATE,
  },
  DaemonSet: {
    kind: 'DaemonSet',
    group: 'apps',
    versions: ['v1'],
    resource: 'daemonsets',
    namespaced: true,
    podSpecPath: TEMPLATE,
  },
  ReplicaSet: {
    kind: 'ReplicaSet',
    group: 'apps',
    versions: ['v1'],
    resource: 'replicasets',
    namespaced: true,
    podSpecPath: TEMPLATE,
  },
  Job: { kind: 'Job', group: 'batch', versions: ['v1'], resource: 'jobs', namespaced: true, podSpecPath: TEMPLATE },
  CronJob: {
    kind: 'CronJob',
    group: 'batch',
    versions: ['v1'],
    resource: 'cronjobs',
    namespaced: true,
    podSpecPath: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },
  Service: { kind: 'Service', group: '', versions: ['v1'], resource: 'services', namespaced: true },
  NetworkPolicy: {
    kind: 'NetworkPolicy',
    group: 'networking.k8s.io',
    versions: ['v1'],
    resource: 'networkpolicies',
    namespaced: true,
  },
  // AKO documents SCTP listeners on the v1alpha1 service-apis Gateway.
  ServiceApisGateway: {
    kind: 'Gateway',
    group: 'networking.x-k8s.io',
    versions: ['v1alpha1', 'v1alpha2'],
    resource: 'gateways',
    namespaced: true,
  },
  Gateway: {
    kind: 'Gateway',
    group: 'gateway.networking.k8s.io',
    versions: ['v1', 'v1beta1', 'v1alpha2'],
    resource: 'gateways',
    namespaced: true,
  },
  MachineConfig: {
    kind: 'MachineConfig',
    group: 'machineconfiguration.openshift.io',
    versions: ['v1'],
    resource: 'machineconfigs',
    namespaced: false,
    maxPageSize: 20,
  },
  MachineConfigPool: {
    kind: 'MachineConfigPool',
    group: 'machineconfiguration.openshift.io',
    versions: ['v1'],
    resource: 'machineconfigpools',
    namespaced: false,
  },
  Node: { kind: 'Node', group: '', versions: ['v1'], resource: 'nodes', namespaced: false },
  ClusterVersion: {
    kind: 'ClusterVersion',
    group: 'config.openshift.io',
    versions: ['v1'],
    resource: 'clusterversions',
    namespaced: false,
  },
  MachineConfiguration: {
    kind: 'MachineConfiguration',
    group: 'operator.openshift.io',
    versions: ['v1'],
    resource: 'machineconfigurations',
    namespaced: false,
  },
} as const satisfies Record<string, KindInfo>;

/** The Pod and every pod controller, in the order rules list them. */
export const POD_KINDS: readonly KindInfo[] = [
  KINDS.Pod,
  KINDS.ReplicationController,
  KINDS.Deployment,
  KINDS.StatefulSet,
  KINDS.DaemonSet,
  KINDS.ReplicaSet,
  KINDS.Job,
  KINDS.CronJob,
];

const POD_SPEC_PATHS = new Map<string, readonly string[]>(POD_KINDS.map((k) => [k.kind, k.podSpecPath!]));

/** Where the pod spec of a Pod or pod controller lives, by kind; undefined for other kinds. */
export function podSpecPath(kind: string | undefined): readonly string[] | undefined {
  return kind === undefined ? undefined : POD_SPEC_PATHS.get(kind);
}

/** Cluster-scoped kinds beyond the table that `check` may meet (k8s.io/api, openshift/api, Gateway API, AKO, cert-manager). */
const OTHER_CLUSTER_SCOPED = [
  'Namespace',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'RuntimeClass',
  'IngressClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'APIService',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'KubeletConfig',
  'ContainerRuntimeConfig',
  'ClusterOperator',
  'GatewayClass',
  'AviInfraSetting',
  'ClusterIssuer',
  'ClusterPolicyReport',
  'SecurityContextConstraints',
];

const CLUSTER_SCOPED = new Set([
  ...Object.values(KINDS)
    .filter((k: KindInfo) => !k.namespaced)
    .map((k) => k.kind),
  ...OTHER_CLUSTER_SCOPED,
]);

/** Everything not known to be cluster-scoped is namespaced, which is what a CRD usually is. */
export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/**
 * The one form of a collection's API path: `/api/v1/nodes`, `/apis/machineconfiguration.openshift.io/v1/machineconfigs`,
 * `/api/v1/namespaces/telco/services` (in one namespace).
 */
export function apiPath(
  k: { readonly group: string; readonly resource: string },
  version: string,
  namespace?: string,
): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${k.group ? `/apis/${k.group}` : '/api'}/${version}${ns}/${k.resource}`;
}

const BY_GROUP_KIND = new Map<string, KindInfo>(Object.values(KINDS).map((k: KindInfo) => [`${k.group}/${k.kind}`, k]));

/** The registry's entry for a kind of an API group, if it has one. */
export function kindInfo(group: string, kind: string): KindInfo | undefined {
  return BY_GROUP_KIND.get(`${group}/${kind}`);
}
