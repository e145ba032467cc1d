import { matchKinds } from '../engine/matches.js';
import type { KubeObject, Rule, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { escapePointer } from '../util/json-pointer.js';
import { isRecord } from '../util/json.js';
import { pass, violation } from '../engine/verdict.js';
import { annotation, portLabel, SCTP_FIELDS, serviceSctpPorts, serviceType } from './objects.js';

export const ID = 'nodeportlocal-sctp';
export const NPL_ANNOTATION = 'nodeportlocal.antrea.io/enabled';

/**
 * Whether Antrea's NodePortLocal controller acts on this Service at all (antrea-io/antrea
 * pkg/agent/nodeportlocal/k8s/npl_controller.go): only the exact annotation value "true" (its index and
 * enqueueSvc compare with == "true"), and `validateNPLService` / getTargetPortsForServicesOfPod skip NodePort and
 * ExternalName Services and Services without a selector ("the NodePortLocal annotation will have no effect").
 */
function nplActsOn(service: KubeObject): boolean {
  if (annotation(service, NPL_ANNOTATION) !== 'true') return false;
  const type = serviceType(service);
  if (type === 'NodePort' || type === 'ExternalName') return false;
  const selector = isRecord(service.spec) ? service.spec.selector : undefined;
  return isRecord(selector) && Object.keys(selector).length > 0;
}

export const nodePortLocalSctp: Rule = {
  id: ID,
  description: 'Antrea NodePortLocal allocates ports for TCP and UDP only: SCTP ports of an NPL Service get no mapping.',
  phase: 'validate',
  defaultEnforcement: 'warn',
  matches: matchKinds([KINDS.Service], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.service }),
  evaluate({ object, policy }: RuleInput) {
    const ports = serviceSctpPorts(object);
    if (!object || ports.length === 0) return pass();
    const annotated = nplActsOn(object);
    if (!annotated && !policy.akoNodePortLocal) return pass();

    const why = annotated
      ? `it has the annotation ${NPL_ANNOTATION}: "true"`
      : 'the policy says AKO runs in NodePortLocal mode (akoNodePortLocal: true)';
    const fix = annotated
      ? `remove the ${NPL_ANNOTATION} annotation and expose SCTP through a NodePort or ClusterIP Service`
      : 'expose SCTP through a NodePort or ClusterIP Service, or run AKO in ClusterIP/NodePort mode';
    // Antrea's own words: "Service has NodePortLocal enabled but it includes a SCTP Service port, which will be ignored".
    return violation({
      text: `${why}, but Antrea NodePortLocal cannot carry SCTP: ports ${ports.map(portLabel).join(', ')} will get no NodePortLocal mapping (Antrea ignores SCTP Service ports).`,
      fix,
      summary: 'Antrea NodePortLocal cannot carry SCTP; SCTP ports get no NPL mapping',
      path: annotated ? `/metadata/annotations/${escapePointer(NPL_ANNOTATION)}` : '/spec/ports',
    });
  },
};
