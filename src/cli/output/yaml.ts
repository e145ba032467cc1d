import { stringify } from 'yaml';
import type { KubeObject } from '../../engine/types.js';

/**
 * A multi-document YAML stream, ready for `kubectl apply -f -`. Written as YAML 1.1 (what kubectl reads), so that
 * strings such as "0644", "yes" or "on" stay quoted strings; long strings (data URLs) are never folded, and
 * objects that YAML anchors shared are written out in full.
 */
export function formatYamlStream(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
