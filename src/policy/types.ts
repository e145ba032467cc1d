import type { ENFORCEMENTS, PolicyFile, PRESET_NAMES } from './schema.js';

/** How a rule's failure is enforced: deny it, let it through with a warning, log it only, or never run it. */
export type Enforcement = (typeof ENFORCEMENTS)[number];

export type PresetName = (typeof PRESET_NAMES)[number];

type Fields = Omit<PolicyFile, 'apiVersion' | 'kind' | 'metadata'>;

/** The effective policy after the preset and the file are merged (`mergePolicy`): every field of the file is set. */
export type Policy = Required<Omit<Fields, 'ignition'>> & { ignition: Required<NonNullable<Fields['ignition']>> };
