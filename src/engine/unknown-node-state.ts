import type { Policy } from '../policy/types.js';
import type { Verdict } from './types.js';
import { oneLine } from './verdict.js';

/**
 * The policy's `unknownNodeState` applied to the findings a rule raised only because it is unknown whether the
 * nodes carry SCTP, the same way for every rule: `allow` drops them but leaves an audit annotation, `warn` makes
 * them advisories, `deny` keeps the rule's severity. Each kept finding says which setting decided.
 */
export function settleUnknownNodeState(verdict: Verdict, policy: Policy, prefix: string): Verdict {
  if (!verdict.findings.some((f) => f.unknownNodeState)) return verdict;
  const setting = policy.unknownNodeState;
  const out: Verdict = { ...verdict, findings: [], annotations: { ...verdict.annotations } };
  for (const f of verdict.findings) {
    if (!f.unknownNodeState) out.findings.push(f);
    else if (setting === 'allow')
      out.annotations['unknown-node-state'] = oneLine(`allowed by unknownNodeState: ${prefix}${f.summary}`);
    else {
      const { unknownNodeState: _, ...rest } = f;
      out.findings.push({
        ...rest,
        severity: setting === 'warn' ? 'advisory' : f.severity,
        context: `unknownNodeState is ${setting}.`,
      });
    }
  }
  return out;
}
