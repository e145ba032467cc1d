import { InvalidArgumentError } from 'commander';
import { loadPolicy } from '../policy/load.js';
import { excludeOwnNamespace } from '../policy/namespaces.js';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../policy/presets.js';
import type { Policy } from '../policy/types.js';
import { RULE_IDS } from '../rules/index.js';

/** The namespace sctp-guard runs in: $POD_NAMESPACE (the Deployment sets it from the downward API), else sctp-guard. */
export function ownNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAMESPACE || DEFAULT_WEBHOOK_NAMESPACE;
}

/** The policy every command uses: the file (or the default) with the webhook's own namespace always excluded. */
export function commandPolicy(file: string | undefined, namespace: string = ownNamespace()): Policy {
  return excludeOwnNamespace(loadPolicy(file, { ruleIds: RULE_IDS, webhookNamespace: namespace }), namespace);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}
