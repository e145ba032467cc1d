import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { loadPolicy } from '../policy/load.js';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../policy/presets.js';
import type { Policy } from '../policy/types.js';
import { ALL_RULES } from '../rules/index.js';

/** The namespace sctp-guard runs in: $POD_NAMESPACE (the Deployment sets it from the downward API), else sctp-guard. */
export function ownNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAMESPACE || DEFAULT_WEBHOOK_NAMESPACE;
}

/** The policy every command uses: the file (or the default) with the webhook's own namespace always excluded. */
export function commandPolicy(file: string | undefined, namespace: string = ownNamespace()): Policy {
  return loadPolicy(file, { rules: ALL_RULES, webhookNamespace: namespace });
}

/** The version in package.json, read from the built tree (`dist/src/cli/`), where the binary runs. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** A repeatable flag's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A repeatable flag that also takes comma-separated lists (`--skip-kinds Secret,ConfigMap --skip-kinds Job`). */
export function commaList(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org) or TERM is dumb. */
export function useColour(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** `--cluster-state <dir>` of the commands that also take a live cluster: one or the other, never both. */
export function clusterStateOption(
  description = 'offline cluster state: YAML of Nodes, MachineConfigs, MachineConfigPools',
): Option {
  return new Option('--cluster-state <dir>', description).conflicts(['kubeconfig', 'context']);
}
