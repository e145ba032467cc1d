import type { Rule } from '../engine/types.js';
import { ignitionSpecVersion } from './ignition-spec-version.js';
import { machineConfigFields } from './machineconfig-fields.js';
import { nodePortLocalSctp } from './nodeportlocal-sctp.js';
import { sctpGatewayListener } from './sctp-gateway-listener.js';
import { sctpHostPortPartial } from './sctp-hostport-partial.js';
import { sctpModuleLoaded } from './sctp-module-loaded.js';
import { sctpNodeAffinity } from './sctp-node-affinity.js';
import { sctpServiceType } from './sctp-service-type.js';

/** Every rule sctp-guard knows, in the order their messages appear. */
export const ALL_RULES: readonly Rule[] = [
  sctpServiceType,
  sctpGatewayListener,
  nodePortLocalSctp,
  ignitionSpecVersion,
  machineConfigFields,
  sctpModuleLoaded,
  sctpNodeAffinity,
  sctpHostPortPartial,
];

export const RULE_IDS = ALL_RULES.map((r) => r.id);
