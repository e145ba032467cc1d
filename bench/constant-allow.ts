/** The bare server's answer to every review: allowed, echoing only `request.uid` (bench/baseline.ts). */
export function constantAllow(uid: string): string {
  return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)},"allowed":true}}`;
}
