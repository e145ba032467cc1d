import type { ENFORCEMENTS, PolicySettings, PRESET_NAMES } from './schema.js';

/** How a rule's failure is enforced: deny it, let it through with a warning, log it only, or never run it. */
export type Enforcement = (typeof ENFORCEMENTS)[number];

export type PresetName = (typeof PRESET_NAMES)[number];

type Fields = Omit<PolicySettings, 'apiVersion' | 'kind' | 'metadata'>;

/**
 * The effective policy after the preset and the file are merged (`mergePolicy`): every shared setting is set, and
 * beside them each rule's parameters (read them typed with the rule's declaration: `PARAMETERS.of(policy)`).
 */
export type Policy = Required<Omit<Fields, 'ignition'>> & {
  ignition: Required<NonNullable<Fields['ignition']>>;
} & { readonly [parameter: string]: unknown };
