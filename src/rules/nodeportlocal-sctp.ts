import { matchKinds } from '../engine/matches.js';
import type { Rule, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { escapePointer } from '../util/json-pointer.js';
import { pass, violation } from '../engine/verdict.js';
import { annotation, portLabel, SCTP_FIELDS, serviceSctpPorts } from './objects.js';

export const ID = 'nodeportlocal-sctp';
export const NPL_ANNOTATION = 'nodeportlocal.antrea.io/enabled';

export const nodePortLocalSctp: Rule = {
  id: ID,
  description: 'Antrea NodePortLocal allocates ports for TCP and UDP only: SCTP ports of an NPL Service get no mapping.',
  phase: 'validate',
  defaultEnforcement: 'warn',
  matches: matchKinds([KINDS.Service], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.service }),
  evaluate({ object, policy }: RuleInput) {
    const ports = serviceSctpPorts(object);
    if (ports.length === 0) return pass();
    const annotated = annotation(object, NPL_ANNOTATION)?.toLowerCase() === 'true';
    if (!annotated && !policy.akoNodePortLocal) return pass();

    const why = annotated
      ? `it has the annotation ${NPL_ANNOTATION}: "true"`
      : 'the policy says AKO runs in NodePortLocal mode (akoNodePortLocal: true)';
    const fix = annotated
      ? `remove the ${NPL_ANNOTATION} annotation and expose SCTP through a NodePort or ClusterIP Service`
      : 'expose SCTP through a NodePort or ClusterIP Service, or run AKO in ClusterIP/NodePort mode';
    return violation({
      text: `${why}, but Antrea NodePortLocal cannot carry SCTP: ports ${ports.map(portLabel).join(', ')} will get no NodePortLocal mapping.`,
      fix,
      summary: 'Antrea NodePortLocal cannot carry SCTP; SCTP ports get no NPL mapping',
      path: annotated ? `/metadata/annotations/${escapePointer(NPL_ANNOTATION)}` : '/spec/ports',
    });
  },
};
