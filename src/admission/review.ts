import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Engine, EngineRequest, Phase } from '../engine/engine.js';
import { engineRequest } from '../engine/request.js';
import type { Decision, KubeObject } from '../engine/types.js';
import type { AdmissionRequest, AdmissionResponse, AdmissionReview } from './envelope.js';

/** AdmissionRequest → engine input. The request's own fields win over the object's (they are authoritative). */
export function toEngineRequest(req: AdmissionRequest): EngineRequest {
  const object = (req.object ?? null) as KubeObject | null;
  const oldObject = (req.oldObject ?? null) as KubeObject | null;
  return engineRequest({
    object,
    oldObject,
    operation: req.operation,
    gvk: { group: req.kind.group ?? '', version: req.kind.version ?? '', kind: req.kind.kind },
    namespace: req.namespace ?? object?.metadata?.namespace ?? '',
    dryRun: req.dryRun === true,
    ...(req.userInfo?.username !== undefined ? { username: req.userInfo.username } : {}),
  });
}

/** Engine decision → AdmissionResponse: patch only from /mutate, status only on denial. */
export function toAdmissionResponse(uid: string, decision: Decision, phase: Phase): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  if (!decision.allowed) response.status = { code: 403, reason: 'Forbidden', message: decision.message };
  if (decision.warnings.length > 0) response.warnings = decision.warnings;
  if (Object.keys(decision.auditAnnotations).length > 0) response.auditAnnotations = decision.auditAnnotations;
  if (phase === 'mutate' && decision.allowed && decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  return response;
}

export interface AdmissionAnswer {
  review: { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse };
  decision: Decision;
  request: EngineRequest;
}

/** The whole adapter: one validated AdmissionReview in, the AdmissionReview to send back out. */
export function review(
  body: AdmissionReview,
  engine: Engine,
  snapshot: ClusterSnapshot,
  phase: Phase,
): AdmissionAnswer {
  const request = toEngineRequest(body.request);
  const decision = engine.evaluate(request, snapshot, phase);
  return {
    review: {
      apiVersion: body.apiVersion,
      kind: 'AdmissionReview',
      response: toAdmissionResponse(body.request.uid, decision, phase),
    },
    decision,
    request,
  };
}
