import type { Rule } from '../engine/types.js';
import { nodePortLocalSctp } from './nodeportlocal-sctp.js';
import { sctpGatewayListener } from './sctp-gateway-listener.js';
import { sctpServiceType } from './sctp-service-type.js';

/** Every rule sctp-guard knows, in the order their messages appear. */
export const ALL_RULES: readonly Rule[] = [sctpServiceType, sctpGatewayListener, nodePortLocalSctp];

export const RULE_IDS = ALL_RULES.map((r) => r.id);
