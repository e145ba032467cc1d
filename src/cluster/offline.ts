import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { isRecord } from '../util/json.js';
import { FileLineError, parseYamlDocumentsAs } from '../input/yaml.js';
import { isWatchedKind, reduce } from './records.js';
import type { ClusterSnapshot } from './snapshot.js';
import { ClusterState } from './state.js';

/** A cluster-state file that cannot be read: `file:line: reason`, for exit code 2. */
export class ClusterStateError extends FileLineError {}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Offline cluster state: every YAML/JSON file under `dir` (multi-document streams and `List` kinds, e.g. the
 * output of `oc get nodes,machineconfigs,machineconfigpools,clusterversions -o yaml`). Nodes, MachineConfigs,
 * MachineConfigPools and ClusterVersions go through the same reduction as the informers; other kinds are
 * ignored so that a directory of mixed manifests works.
 */
export function loadClusterState(dir: string): ClusterSnapshot {
  const state = new ClusterState();
  const { machineConfigsAvailable } = loadClusterStateInto(state, dir);
  return Object.freeze({ ...state.build('offline', machineConfigsAvailable), ageSeconds: 0, stale: false });
}

/** Loads the files into `state`; MachineConfig data counts as available when any file had a MachineConfig(Pool). */
function loadClusterStateInto(state: ClusterState, dir: string): { machineConfigsAvailable: boolean } {
  let sawMachineConfigs = false;
  for (const file of listFiles(dir)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ClusterStateError(file, 0, `cannot read: ${(err as Error).message}`);
    }
    for (const doc of parseYamlDocumentsAs(text, file, ClusterStateError)) {
      const objects = isRecord(doc.value) && Array.isArray(doc.value.items) && String(doc.value.kind ?? '').endsWith('List')
        ? doc.value.items.map((item, i) => ({ item, pointer: `/items/${i}` }))
        : [{ item: doc.value, pointer: '' }];
      for (const { item, pointer } of objects) {
        if (!isRecord(item)) throw new ClusterStateError(file, doc.lineOf(pointer), 'expected a Kubernetes object (a mapping with kind and metadata)');
        if (!isWatchedKind(item.kind)) continue;
        const name = isRecord(item.metadata) ? item.metadata.name : undefined;
        if (typeof name !== 'string' || name === '') throw new ClusterStateError(file, doc.lineOf(`${pointer}/metadata`), `${item.kind} without metadata.name`);
        if (item.kind === 'MachineConfig' || item.kind === 'MachineConfigPool') sawMachineConfigs = true;
        state.upsert(item.kind, reduce(item.kind, item));
      }
    }
  }
  return { machineConfigsAvailable: sawMachineConfigs };
}

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ClusterStateError(dir, 0, 'not a directory');
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (err) {
    if (err instanceof ClusterStateError) throw err;
    throw new ClusterStateError(dir, 0, `cannot read cluster state directory: ${(err as Error).message}`);
  }
  return entries
    .filter((e) => EXTENSIONS.has(extname(e).toLowerCase()))
    .sort()
    .map((e) => join(dir, e))
    .filter((f) => statSync(f).isFile() && relative(dir, f) !== '');
}
