import { GENERATED_BY_ANNOTATION, generatedByController } from '../cluster/machineconfig.js';
import { isRecord } from '../util/json.js';
import { KINDS } from '../util/kinds.js';
import type { EngineRequest, KubeObject } from './types.js';

/**
 * Objects the platform's own controllers write. No rule acts on them, whatever rules match their kind: the engine
 * skips them before any rule runs (serve with and without matchConditions, check, audit, remediate), the webhook
 * configurations leave them out in `matchConditions` (the API server does not even call sctp-guard for them, so an
 * outage cannot block them), and the exported ValidatingAdmissionPolicies carry the same condition. One
 * declaration per kind: `describe` for the engine and `cel` for the API server, held to each other by a property
 * test (test/engine/platform-owned.test.ts).
 */
interface PlatformOwned {
  group: string;
  kind: string;
  /** The matchCondition's name. */
  conditionName: string;
  /** Why the request writes a platform-owned object (for the decision's `skipped`), or undefined. */
  describe(req: Pick<EngineRequest, 'object' | 'username'>): string | undefined;
  /** CEL, true when the request writes a platform-owned object; reads `object` (never null here) and `request.userInfo`. */
  cel: string;
}

/**
 * The MCO's service accounts that write MachineConfigs: the controller (template, kubelet-config,
 * container-runtime-config, render and internalreleaseimage controllers) and the operator (the pre-built image
 * MachineConfig of on-cluster layering: pkg/operator/sync.go, CreatePreBuiltImageMachineConfig, which carries no
 * annotation). Names from openshift/machine-config-operator manifests/machineconfigcontroller/deployment.yaml and
 * install/0000_80_machine-config_04_deployment.yaml (serviceAccountName), namespace openshift-machine-config-operator.
 * The controller also writes one MachineConfig without the annotation: GetManagedKey (pkg/controller/common/helpers.go)
 * copies a deprecated `99-<pool>-<uid>-kubelet`/`-containerruntime` config under its new name.
 */
export const MCO_SERVICE_ACCOUNTS = [
  'system:serviceaccount:openshift-machine-config-operator:machine-config-controller',
  'system:serviceaccount:openshift-machine-config-operator:machine-config-operator',
] as const;

/**
 * Controller ownerReferences the MCO sets (metav1.NewControllerRef or a literal): ControllerConfig (template
 * controller), KubeletConfig, ContainerRuntimeConfig, MachineConfigPool (render controller), and the cluster's
 * `config.openshift.io` Image / CRIOCredentialProviderConfig (container-runtime-config helpers.go
 * ownerReferenceImageConfig, ownerReferenceCredentialProviderConfig). The bootstrap registries config has the Image
 * reference but not the annotation until the controller's first sync (container_runtime_config_controller.go
 * RunImageBootstrap: "Explicitly do NOT set GeneratedByControllerVersionAnnotationKey").
 */
const MCO_OWNER_KINDS: Readonly<Record<string, readonly string[]>> = {
  'machineconfiguration.openshift.io': [
    'ControllerConfig',
    'KubeletConfig',
    'ContainerRuntimeConfig',
    'MachineConfigPool',
  ],
  'config.openshift.io': ['Image', 'CRIOCredentialProviderConfig'],
};

function mcoOwner(obj: KubeObject | null): string | undefined {
  const refs: unknown = obj?.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const r of refs) {
    if (!isRecord(r) || typeof r.apiVersion !== 'string' || typeof r.kind !== 'string') continue;
    const group = r.apiVersion.split('/')[0]!;
    if (MCO_OWNER_KINDS[group]?.includes(r.kind))
      return `${r.kind}${typeof r.name === 'string' && r.name !== '' ? ` ${r.name}` : ''}`;
  }
  return undefined;
}

/**
 * The annotation (GENERATED_BY_ANNOTATION) is how the MCO itself tells its MachineConfigs from the user's. Every
 * controller that writes a MachineConfig sets it, from 4.1 to main (template render.go
 * generateTemplateMachineConfigs, kubelet-config kubelet_config_controller.go, kubelet_config_features.go
 * `98-<pool>-generated-kubelet` and kubelet_config_nodes.go `97-<pool>-generated-kubelet`, which have no
 * ownerReferences, container-runtime-config `-generated-containerruntime` / `-generated-registries`,
 * render_controller.go generateRenderedMachineConfig); MergeMachineConfigs and the template controller's
 * clearImageURLs skip MachineConfigs that carry it as "generated MCs", and the render controller refuses to render
 * while one carries an older controller's version (OCPBUGS-3821): a user's MachineConfig carrying it would stall
 * rendering, so no user's config does.
 */
const generatedBy = (obj: KubeObject | null): string | undefined => generatedByController(obj?.metadata);

const celOwner = Object.entries(MCO_OWNER_KINDS)
  .map(
    ([group, kinds]) =>
      `(r.apiVersion.startsWith('${group}/') && r.kind in [${kinds.map((k) => `'${k}'`).join(', ')}])`,
  )
  .join(' || ');

const MCO_MACHINE_CONFIG: PlatformOwned = {
  group: KINDS.MachineConfig.group,
  kind: KINDS.MachineConfig.kind,
  conditionName: 'machineconfig-not-written-by-the-mco',
  describe({ object, username }) {
    const because = [
      username !== undefined && (MCO_SERVICE_ACCOUNTS as readonly string[]).includes(username)
        ? `written by ${username}`
        : undefined,
      generatedBy(object) !== undefined ? `annotation ${GENERATED_BY_ANNOTATION}: ${generatedBy(object)!}` : undefined,
      mcoOwner(object) !== undefined ? `owned by ${mcoOwner(object)!}` : undefined,
    ].filter((s): s is string => s !== undefined);
    return because.length > 0
      ? `a MachineConfig of the Machine Config Operator's own (${because.join('; ')}): sctp-guard leaves it alone`
      : undefined;
  },
  // has() guards every step: a missing field is an evaluation error, and an error applies failurePolicy.
  cel:
    `(has(request.userInfo) && has(request.userInfo.username) && request.userInfo.username in [${MCO_SERVICE_ACCOUNTS.map((s) => `'${s}'`).join(', ')}]) || ` +
    `(has(object.metadata.annotations) && '${GENERATED_BY_ANNOTATION}' in object.metadata.annotations && object.metadata.annotations['${GENERATED_BY_ANNOTATION}'] != '') || ` +
    `(has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, has(r.apiVersion) && has(r.kind) && (${celOwner})))`,
};

const PLATFORM_OWNED: readonly PlatformOwned[] = [MCO_MACHINE_CONFIG];

/** The declaration for a kind, if it has one. */
function platformOwnedOf(group: string, kind: string): PlatformOwned | undefined {
  return PLATFORM_OWNED.find((p) => p.group === group && p.kind === kind);
}

/** Why the request writes an object of the platform's own, or undefined. */
export function platformOwnedReason(req: Pick<EngineRequest, 'object' | 'username' | 'gvk'>): string | undefined {
  return platformOwnedOf(req.gvk.group, req.gvk.kind)?.describe(req);
}

/**
 * The matchCondition that leaves these requests out, for the kinds in `kinds` (webhook configurations and VAPs):
 * true (send) for any other kind, for a request with no object (DELETE), and for objects no controller owns.
 */
export function platformOwnedConditions(
  kinds: ReadonlyArray<{ group: string; kind: string }>,
): Array<{ name: string; expression: string }> {
  return PLATFORM_OWNED.filter((p) => kinds.some((k) => k.group === p.group && k.kind === p.kind)).map((p) => ({
    name: p.conditionName,
    expression: `request.kind.group != '${p.group}' || request.kind.kind != '${p.kind}' || object == null || !(${p.cel})`,
  }));
}
