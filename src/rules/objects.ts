import { isSctp } from '../engine/sctp-fields.js';
import type { FieldPath, KubeObject } from '../engine/types.js';
import { isRecord, records } from '../util/json.js';
import { podSpecPath } from '../util/kinds.js';

/** Readers for the object shapes the rules look at. Objects come from users: every field may be anything. */

export interface PortRef {
  name?: string;
  port: unknown;
  protocol: string;
}

function specOf(obj: KubeObject | null | undefined): Record<string, unknown> {
  return isRecord(obj?.spec) ? obj.spec : {};
}

/** The fields the readers below look at for SCTP, as rules declare them (`RuleMatch.sctpFields`). */
export const SCTP_FIELDS = {
  service: [['spec', 'ports', '*', 'protocol']],
  pod: [
    ['podSpec', 'containers', '*', 'ports', '*', 'protocol'],
    ['podSpec', 'initContainers', '*', 'ports', '*', 'protocol'],
  ],
  networkPolicy: [
    ['spec', 'ingress', '*', 'ports', '*', 'protocol'],
    ['spec', 'egress', '*', 'ports', '*', 'protocol'],
  ],
  gateway: [['spec', 'listeners', '*', 'protocol']],
} as const satisfies Record<string, readonly FieldPath[]>;

/** The SCTP items of a list of port-like objects (Service ports, Gateway listeners): one pass, no copies between. */
function sctpItems(list: unknown): PortRef[] {
  const out: PortRef[] = [];
  if (!Array.isArray(list)) return out;
  for (const p of list)
    if (isRecord(p) && isSctp(p.protocol))
      out.push({ name: typeof p.name === 'string' ? p.name : undefined, port: p.port, protocol: 'SCTP' });
  return out;
}

export function serviceSctpPorts(obj: KubeObject | null | undefined): PortRef[] {
  return sctpItems(specOf(obj).ports);
}

/** `spec.type` with the API server's default. */
export function serviceType(obj: KubeObject | null | undefined): string {
  const type = specOf(obj).type;
  return typeof type === 'string' && type !== '' ? type : 'ClusterIP';
}

export function portLabel(p: PortRef): string {
  return p.name ? `${p.name} (${String(p.port)}/SCTP)` : `${String(p.port)}/SCTP`;
}

export function annotation(obj: KubeObject | null | undefined, key: string): string | undefined {
  const value = obj?.metadata?.annotations?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** The pod spec of a Pod or of any pod controller's template (Kyverno's autogen idea), if it has one. */
export function podSpecOf(obj: KubeObject | null | undefined): Record<string, unknown> | undefined {
  const path = podSpecPath(obj?.kind);
  if (!path) return undefined;
  let cursor: unknown = obj;
  for (const key of path) {
    if (!isRecord(cursor)) return undefined;
    cursor = cursor[key];
  }
  return isRecord(cursor) ? cursor : undefined;
}

export interface ContainerPortRef extends PortRef {
  container: string;
  hostPort?: unknown;
}

/** SCTP container ports (and host ports) of every container, init container included. */
export function podSctpPorts(podSpec: Record<string, unknown> | undefined): ContainerPortRef[] {
  if (!podSpec) return [];
  const containers = [...records(podSpec.initContainers), ...records(podSpec.containers)];
  const out: ContainerPortRef[] = [];
  for (const c of containers) {
    for (const p of records(c.ports)) {
      if (!isSctp(p.protocol)) continue;
      out.push({
        container: typeof c.name === 'string' ? c.name : '<unnamed>',
        name: typeof p.name === 'string' ? p.name : undefined,
        port: p.containerPort,
        hostPort: p.hostPort,
        protocol: 'SCTP',
      });
    }
  }
  return out;
}

/** SCTP ports of a NetworkPolicy's ingress and egress rules. */
export function networkPolicySctpPorts(obj: KubeObject | null | undefined): PortRef[] {
  const spec = specOf(obj);
  const rules = [...records(spec.ingress), ...records(spec.egress)];
  return rules.flatMap((r) =>
    records(r.ports)
      .filter((p) => isSctp(p.protocol))
      .map((p) => ({ port: p.port, protocol: 'SCTP' })),
  );
}

/** SCTP listeners of a Gateway (AKO's networking.x-k8s.io/v1alpha1 and gateway.networking.k8s.io). */
export function gatewaySctpListeners(obj: KubeObject | null | undefined): PortRef[] {
  return sctpItems(specOf(obj).listeners);
}
