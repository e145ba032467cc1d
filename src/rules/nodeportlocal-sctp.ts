import { matchKinds } from './matches.js';
import type { KubeObject, Rule, RuleCel, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { escapePointer } from '../util/json-pointer.js';
import { isRecord } from '../util/json.js';
import { pass, violation } from '../engine/verdict.js';
import { annotation, portLabel, SCTP_FIELDS, serviceSctpPorts, serviceType } from './objects.js';
import { ruleParameters } from '../policy/parameters.js';
import type { Policy } from '../policy/types.js';
import {
  celPortLabels,
  celServiceType,
  celSctpItems,
  celExisting,
  celString,
  celStringList,
  celUnchanged,
  ratchetedChecks,
} from './cel.js';

export const ID = 'nodeportlocal-sctp';
export const NPL_ANNOTATION = 'nodeportlocal.antrea.io/enabled';

/** Service types whose NPL annotation Antrea ignores. */
const NPL_IGNORED_TYPES = ['NodePort', 'ExternalName'];

/**
 * Whether Antrea's NodePortLocal controller acts on this Service at all (antrea-io/antrea
 * pkg/agent/nodeportlocal/k8s/npl_controller.go): only the exact annotation value "true" (its index and
 * enqueueSvc compare with == "true"), and `validateNPLService` / getTargetPortsForServicesOfPod skip NodePort and
 * ExternalName Services and Services without a selector ("the NodePortLocal annotation will have no effect").
 */
function nplActsOn(service: KubeObject): boolean {
  if (annotation(service, NPL_ANNOTATION) !== 'true') return false;
  if (NPL_IGNORED_TYPES.includes(serviceType(service))) return false;
  const selector = isRecord(service.spec) ? service.spec.selector : undefined;
  return isRecord(selector) && Object.keys(selector).length > 0;
}

const WHY_ANNOTATED = `it has the annotation ${NPL_ANNOTATION}: "true"`;
/** The cluster runs AKO with `serviceType: NodePortLocal` (Antrea NPL): every SCTP Service is affected. */
const PARAMETERS = ruleParameters({ akoNodePortLocal: { type: 'boolean', default: false } });

const WHY_AKO = 'the policy says AKO runs in NodePortLocal mode (akoNodePortLocal: true)';
const TEXT = [
  ', but Antrea NodePortLocal cannot carry SCTP: ports ',
  ' will get no NodePortLocal mapping (Antrea ignores SCTP Service ports).',
] as const;
const FIX_ANNOTATED = `remove the ${NPL_ANNOTATION} annotation and expose SCTP through a NodePort or ClusterIP Service`;
const FIX_AKO = 'expose SCTP through a NodePort or ClusterIP Service, or run AKO in ClusterIP/NodePort mode';
const SUMMARY = 'Antrea NodePortLocal cannot carry SCTP; SCTP ports get no NPL mapping';
const ANNOTATION_PATH = `/metadata/annotations/${escapePointer(NPL_ANNOTATION)}`;

export const nodePortLocalSctp: Rule = {
  id: ID,
  description:
    'Antrea NodePortLocal allocates ports for TCP and UDP only: SCTP ports of an NPL Service get no mapping.',
  phase: 'validate',
  defaultEnforcement: 'warn',
  matches: matchKinds([KINDS.Service], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.service }),
  parameters: PARAMETERS,
  evaluate({ object, policy }: RuleInput) {
    const ports = serviceSctpPorts(object);
    if (!object || ports.length === 0) return pass();
    const annotated = nplActsOn(object);
    if (!annotated && !PARAMETERS.of(policy).akoNodePortLocal) return pass();

    // Antrea's own words: "Service has NodePortLocal enabled but it includes a SCTP Service port, which will be ignored".
    return violation({
      text: `${annotated ? WHY_ANNOTATED : WHY_AKO}${TEXT[0]}${ports.map(portLabel).join(', ')}${TEXT[1]}`,
      fix: annotated ? FIX_ANNOTATED : FIX_AKO,
      summary: SUMMARY,
      path: annotated ? ANNOTATION_PATH : '/spec/ports',
    });
  },
  cel: nodePortLocalCel,
};

/** nplActsOn of `o` in CEL. */
function celNplActsOn(o: string): string {
  const annotations = `${o}.metadata.annotations`;
  const key = celString(NPL_ANNOTATION);
  return (
    `has(${annotations}) && ${key} in ${annotations} && ${annotations}[${key}] == 'true' && ` +
    `!((${celServiceType(o)}) in ${celStringList(NPL_IGNORED_TYPES)}) && ` +
    `has(${o}.spec) && has(${o}.spec.selector) && size(${o}.spec.selector) > 0`
  );
}

/** nplActsOn and the check in CEL, with the engine's UPDATE ratcheting (src/engine/ratchet.ts). */
function nodePortLocalCel(policy: Policy): RuleCel {
  const text = `(variables.nplActs ? ${celString(WHY_ANNOTATED)} : ${celString(WHY_AKO)}) + ${celString(TEXT[0])} + ${celPortLabels('variables.sctpPorts')} + ${celString(TEXT[1])}`;
  const fix = `variables.nplActs ? ${celString(FIX_ANNOTATED)} : ${celString(FIX_AKO)}`;
  const fails = `size(variables.sctpPorts) > 0 && (variables.nplActs${PARAMETERS.of(policy).akoNodePortLocal ? ' || true' : ''})`;
  return {
    variables: [
      { name: 'sctpPorts', expression: celSctpItems('object', ['spec', 'ports'], 'p') },
      { name: 'nplActs', expression: celNplActsOn('object') },
      // oldObject had the same problem at the same path: the annotation (then "true" on both), else the same ports.
      celExisting(
        `size(${celSctpItems('oldObject', ['spec', 'ports'], 'p')}) > 0 && (${celNplActsOn('oldObject')}) == variables.nplActs && (variables.nplActs || ` +
          `(${celUnchanged(['spec', 'ports'])}))`,
      ),
    ],
    checks: ratchetedChecks(fails, { text, fix, summary: celString(SUMMARY) }),
  };
}
