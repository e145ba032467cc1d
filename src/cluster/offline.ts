import { getHeapStatistics } from 'node:v8';
import { isRecord } from '../util/json.js';
import { readObjects, yamlFilesUnder, type TakeObject } from '../input/documents.js';
import { FileLineError } from '../input/yaml.js';
import { FIELDS_READ, isWatchedKind, KIND_NAMES, reduce, type KindName } from './records.js';
import type { ClusterSnapshot } from './snapshot.js';
import { ClusterState } from './state.js';

/** A cluster-state file that cannot be read: `file:line: reason`, for exit code 2. */
export class ClusterStateError extends FileLineError {}

/**
 * Offline cluster state: every YAML/JSON file under `dir` (multi-document streams and `List` kinds, e.g. the
 * output of `oc get nodes,machineconfigs,machineconfigpools,clusterversions -o yaml`). Nodes, MachineConfigs,
 * MachineConfigPools and ClusterVersions go through the same reduction as the informers; other kinds are
 * ignored so that a directory of mixed manifests works. Files are read as a stream and each item of a List is
 * parsed and reduced on its own, so a dump of a 10,000-node cluster never sits in memory as one tree.
 */
export function loadClusterState(dir: string, kinds: readonly KindName[] = KIND_NAMES): ClusterSnapshot {
  const state = new ClusterState();
  const { machineConfigsAvailable } = loadClusterStateInto(state, dir, kinds);
  return Object.freeze({ ...state.build('offline', machineConfigsAvailable), ageSeconds: 0, stale: false });
}

/**
 * Loads the files' objects of `kinds` into `state`; MachineConfig data counts as available when any file had a
 * MachineConfig(Pool) of those kinds.
 */
function loadClusterStateInto(
  state: ClusterState,
  dir: string,
  kinds: readonly KindName[],
): { machineConfigsAvailable: boolean } {
  const read = (kind: unknown): kind is KindName => isWatchedKind(kind) && kinds.includes(kind);
  let sawMachineConfigs = false;
  let loaded = 0;
  for (const file of yamlFilesUnder(dir, ClusterStateError)) {
    const take: TakeObject = (value, lineOf, pointer) => {
      if (!isRecord(value))
        throw new ClusterStateError(
          file,
          lineOf(pointer),
          'expected a Kubernetes object (a mapping with kind and metadata)',
        );
      if (!read(value.kind)) return;
      const name = isRecord(value.metadata) ? value.metadata.name : undefined;
      if (typeof name !== 'string' || name === '')
        throw new ClusterStateError(file, lineOf(`${pointer}/metadata`), `${value.kind} without metadata.name`);
      if (value.kind === 'MachineConfig' || value.kind === 'MachineConfigPool') sawMachineConfigs = true;
      state.upsert(value.kind, reduce(value.kind, value));
      if (++loaded % 1000 === 0) checkHeap(file, lineOf(pointer), loaded);
    };
    // Only the fields the reduction reads are parsed from a streamed List item (a Node's status is most of it).
    readObjects(file, ClusterStateError, (kind) => (read(kind) ? FIELDS_READ[kind] : undefined), take);
  }
  return { machineConfigsAvailable: sawMachineConfigs };
}

/** Ends the load with an error, not a heap crash, when the state would not fit in this process's heap. */
function checkHeap(file: string, line: number, loaded: number): void {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  if (used > limit * 0.8) {
    throw new ClusterStateError(
      file,
      line,
      `cluster state too large: ${loaded} objects use ${Math.round(used / 2 ** 20)} MiB of this process's ${Math.round(limit / 2 ** 20)} MiB heap; load fewer objects (e.g. only nodes, machineconfigs, machineconfigpools, clusterversions) or raise --max-old-space-size`,
    );
  }
}
