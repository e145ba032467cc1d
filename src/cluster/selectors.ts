import { own } from '../util/json.js';
import type { LabelSelector, LabelSelectorRequirement } from './snapshot.js';

/**
 * Label matching as the API server defines it (k8s.io/apimachinery pkg/labels/selector.go and
 * k8s.io/component-helpers scheduling/corev1/nodeaffinity): `NotIn` and `DoesNotExist` match an absent label;
 * `Gt`/`Lt` (node selectors only) compare integers and never match an absent or non-integer label.
 * An unknown operator matches nothing, as the scheduler treats an invalid term.
 */
export function matchesRequirement(value: string | undefined, req: LabelSelectorRequirement): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || values.length !== 1 || !/^-?\d+$/.test(values[0]!))
        return false;
      const [a, b] = [Number(value), Number(values[0])];
      return req.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** metav1.LabelSelector: matchLabels and matchExpressions ANDed; an empty selector matches everything. */
export function matchesLabelSelector(labels: Readonly<Record<string, string>>, selector: LabelSelector): boolean {
  // Loops over what the selector holds: it is matched per pool on every MachineConfig review.
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels) for (const k of Object.keys(matchLabels)) if (own(labels, k) !== matchLabels[k]) return false;
  if (matchExpressions) for (const e of matchExpressions) if (!matchesRequirement(own(labels, e.key), e)) return false;
  return true;
}

/** A LabelSelector as node-selector requirements (matchLabels become `In` with one value). */
export function selectorRequirements(selector: LabelSelector): LabelSelectorRequirement[] {
  return [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({ key, operator: 'In', values: [value] })),
    ...(selector.matchExpressions ?? []),
  ];
}
