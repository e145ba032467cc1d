/**
 * A MachineConfig rollout, simulated on offline cluster state with the product's own readers: the MCO renders each
 * pool whose machineConfigSelector takes a new MachineConfig (reduceLabelSelector + matchesLabelSelector, as
 * render_controller.go lists them), merges it into the pool's rendered config, and the daemon moves every node
 * of every pool to its pool's newest rendered config (state Done), as a finished `oc get mcp -w` shows.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatYamlStream } from '../../src/cli/output/yaml.js';
import { reduceLabelSelector, reduceNode, reducePool } from '../../src/cluster/records.js';
import { poolOf } from '../../src/cluster/state.js';
import { matchesLabelSelector } from '../../src/cluster/selectors.js';
import { convertConfig } from '../../src/ignition/convert.js';
import { isSpecVersion } from '../../src/ignition/versions.js';
import type { KubeObject } from '../../src/engine/types.js';
import { parseYamlDocuments } from '../../src/input/yaml.js';

type Obj = KubeObject & { metadata: NonNullable<KubeObject['metadata']> & { name: string } };
const MCO = 'machineconfiguration.openshift.io';

export function readStateDir(dir: string): Obj[] {
  return (
    readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .flatMap((f) => parseYamlDocuments(readFileSync(join(dir, f), 'utf8'), f).map((d) => d.value as Obj))
      // `oc get -o yaml` of several objects is a List.
      .flatMap((o) => (String(o.kind).endsWith('List') && Array.isArray(o.items) ? (o.items as Obj[]) : [o]))
  );
}

/**
 * Ignition 3 merge for what the rollout needs (coreos/ignition config/merge: lists keyed by path replace the
 * parent's entry; the MCO then sets `overwrite: true` on files that did not say, helpers.go MergeMachineConfigs).
 */
function mergeFiles(rendered: Record<string, any>, child: Record<string, any>): Record<string, any> {
  const out = structuredClone(rendered);
  out.storage ??= {};
  const files: any[] = out.storage.files ?? [];
  for (const f of child.storage?.files ?? []) {
    const i = files.findIndex((x) => x.path === f.path);
    const merged = { ...f, overwrite: f.overwrite ?? true };
    if (i >= 0) files[i] = merged;
    else files.push(merged);
  }
  out.storage.files = files;
  return out;
}

/** The cluster state after the MCO rolled out `added` (MachineConfigs), written to `outDir`. */
export function simulateRollout(stateDir: string, added: KubeObject[], outDir: string): Obj[] {
  const objects = [
    ...readStateDir(stateDir).map((o) => structuredClone(o)),
    ...(added.map((o) => structuredClone(o)) as Obj[]),
  ];
  const byName = new Map(objects.filter((o) => o.kind === 'MachineConfig').map((o) => [o.metadata.name, o]));
  const newRendered = new Map<string, string>();
  for (const pool of objects.filter((o) => o.kind === 'MachineConfigPool')) {
    const spec = pool.spec as Record<string, any>;
    const selector = reduceLabelSelector(spec.machineConfigSelector);
    const target: string = spec.configuration?.name;
    const base = byName.get(target);
    if (!base) continue;
    const takes = added.filter(
      (mc) =>
        selector &&
        Object.keys(selector).length > 0 &&
        matchesLabelSelector((mc.metadata?.labels ?? {}) as Record<string, string>, selector),
    );
    let renderedName = target;
    if (takes.length > 0) {
      let config = (base.spec as any).config as Record<string, any>;
      const version = config.ignition.version;
      for (const mc of takes) {
        // The MCO parses each MachineConfig and converts it to the version it renders.
        const conversion = convertConfig((mc.spec as any).config, isSpecVersion(version) ? version : '3.2.0');
        if (conversion.problems.some((p) => p.severity === 'error'))
          throw new Error(`the MCO would refuse ${mc.metadata?.name}: ${conversion.problems[0]!.message}`);
        config = mergeFiles(config, conversion.config ?? (mc.spec as any).config);
      }
      renderedName = `rendered-${pool.metadata.name}-rolled`;
      const rendered = structuredClone(base);
      rendered.metadata = { ...rendered.metadata, name: renderedName };
      (rendered.spec as any).config = config;
      objects.push(rendered);
    }
    spec.configuration = { name: renderedName };
    const status = (pool.status ??= {}) as Record<string, any>;
    status.configuration = { name: renderedName };
    status.updatedMachineCount = status.machineCount;
    status.conditions = [{ type: 'Updated', status: 'True' }];
    newRendered.set(pool.metadata.name, renderedName);
  }
  const pools = objects.filter((o) => o.kind === 'MachineConfigPool').map((p) => reducePool(p));
  for (const node of objects.filter((o) => o.kind === 'Node')) {
    const pool = poolOf(reduceNode(node), pools);
    const name = pool ? newRendered.get(pool) : undefined;
    if (!name) continue;
    const annotations = (node.metadata.annotations ??= {}) as Record<string, string>;
    annotations[`${MCO}/currentConfig`] = name;
    annotations[`${MCO}/desiredConfig`] = name;
    annotations[`${MCO}/state`] = 'Done';
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'state.yaml'), formatYamlStream(objects));
  return objects;
}
