import { isRecord } from '../util/json.js';
import { matchesLabelSelector } from './selectors.js';
import type { ClusterSnapshot, NodeClass, PoolInfo } from './snapshot.js';

/** The string labels of an object's metadata (anything else is not a label the API server would keep). */
export function labelsOf(metadata: unknown): Record<string, string> {
  const labels = isRecord(metadata) && isRecord(metadata.labels) ? metadata.labels : {};
  return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The pools a MachineConfig with these labels is merged into: every pool whose machineConfigSelector matches them
 * (openshift/machine-config-operator pkg/controller/render/render_controller.go getMachineConfigsForPool). A pool
 * without a selector selects nothing (a nil selector is labels.Nothing there).
 */
export function poolsSelecting(labels: Readonly<Record<string, string>>, snapshot: ClusterSnapshot): PoolInfo[] {
  return snapshot.pools.filter((p) => p.machineConfigSelector && matchesLabelSelector(labels, p.machineConfigSelector));
}

/** The node classes the MCO put in the pool (ClusterState's poolOf, the node controller's choice). */
export function poolClasses(snapshot: ClusterSnapshot, pool: string): NodeClass[] {
  return snapshot.nodes.classes.filter((c) => c.pool === pool);
}

/**
 * The operating systems on which the machine-config daemon switches kernels and installs extensions:
 * pkg/daemon/osrelease `IsEL()` is RHCOS or SCOS; the kubelet labels each node with its os-release ID
 * (`node.openshift.io/os_id=${ID}` in the MCO's kubelet.service templates).
 */
const EL_OS_IDS = new Set(['rhcos', 'scos']);

export function isElClass(c: NodeClass): boolean {
  return EL_OS_IDS.has(c.labels['node.openshift.io/os_id'] ?? '');
}

/** The node's CPU architecture as Go names it (GOARCH): the kubelet's `kubernetes.io/arch` label. */
export function archOf(c: NodeClass): string | undefined {
  return c.labels['kubernetes.io/arch'];
}
