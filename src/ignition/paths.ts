import { pointerTokens } from '../util/json-pointer.js';

/**
 * Where an Ignition field sits, as users read it in their MachineConfig: `spec.config.storage.files[1].mode`;
 * `short` leaves out `spec.config.` for one-line warnings.
 */
export function fieldPath(pointer: string, short = false): string {
  let out = short ? '' : 'spec.config';
  for (const key of pointerTokens(pointer)) out += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  return short ? out.slice(1) : out;
}
