import { matchKinds } from './matches.js';
import type { Finding, KubeObject, Rule, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { edited, pass } from '../engine/verdict.js';
import { convertConfig } from '../ignition/convert.js';
import { poolBaselines } from './pool-baselines.js';
import type { Problem } from '../ignition/problems.js';
import { describeTarget, resolveTarget } from '../ignition/versions.js';
import { isRecord } from '../util/json.js';

export const ID = 'ignition-spec-version';

/** Records the version a MachineConfig was written in before sctp-guard translated it. */
export const TRANSLATED_FROM_ANNOTATION = 'sctp-guard.io/ignition-translated-from';

function specConfig(obj: KubeObject | null): unknown {
  return isRecord(obj?.spec) ? obj.spec.config : undefined;
}

export const ignitionSpecVersion: Rule = {
  id: ID,
  description:
    'MachineConfigs are rewritten to the Ignition spec version the cluster renders, and refused when the MCO or the machine-config daemon would refuse them.',
  phase: 'mutate',
  defaultEnforcement: 'deny',
  // Every MachineConfig, SCTP or not (the rule reads the whole Ignition config); the MCO's own never reach a rule
  // (engine/platform-owned.ts).
  matches: matchKinds([KINDS.MachineConfig], ['CREATE', 'UPDATE']),
  clusterData: ['MachineConfig', 'MachineConfigPool', 'ClusterVersion', 'MachineConfiguration'],
  evaluate({ object, oldObject, operation, snapshot, policy }: RuleInput) {
    if (!object) return pass();
    const config = specConfig(object);
    // A MachineConfig may carry only kernelArguments, extensions or an OS image: no Ignition config to read.
    if (config === undefined || config === null) return pass();

    const declared = isRecord(config) && isRecord(config.ignition) ? config.ignition.version : undefined;
    const target = resolveTarget(
      policy.ignition.targetVersion,
      snapshot,
      typeof declared === 'string' ? declared : undefined,
    );
    // What this MachineConfig already carried is in the old rendered config of the pools it was in: no change there.
    const before =
      operation === 'UPDATE' && oldObject ? convertConfig(specConfig(oldObject), target.version).checked : undefined;
    const baselines = poolBaselines(object, oldObject ?? null, before, snapshot);
    const conversion = convertConfig(config, target.version, baselines);
    const targetText = describeTarget(target, snapshot);
    const findings = conversion.problems.map((p) => toFinding(p, targetText, config));
    if (!conversion.config || !conversion.from) return { findings, annotations: {} };
    return edited(translated(conversion.config, conversion.from), findings);
  },
};

/**
 * The finding points at the offending field as the user wrote it (`check` prints its line). Its ratchet key is the
 * whole of spec.config: an update that leaves spec.config as it was renders the same config (the render controller
 * reads only the spec), so its problems are told, not blocked; any change to spec.config is checked in full.
 */
function toFinding(p: Problem, target: string, config: unknown): Finding {
  return {
    severity: p.severity === 'error' ? 'violation' : 'advisory',
    text: `${p.message}.`,
    fix: p.fix,
    ...(p.severity === 'error' ? { context: `Target Ignition version: ${target}.` } : {}),
    summary: p.short,
    existingSummary: `existing config: ${p.short}`,
    path: `/spec/config${p.pointer}`,
    ratchetKey: { summary: p.short, config },
  };
}

/** Replaces spec.config and records the original version; nothing else of the object is touched. */
function translated(config: Record<string, unknown>, from: string): (obj: KubeObject) => void {
  return (obj) => {
    (obj.spec as Record<string, unknown>).config = config;
    const metadata = isRecord(obj.metadata) ? obj.metadata : {};
    metadata.annotations = {
      ...(isRecord(metadata.annotations) ? metadata.annotations : {}),
      [TRANSLATED_FROM_ANNOTATION]: from,
    };
    obj.metadata = metadata;
  };
}
