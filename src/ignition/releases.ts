/**
 * What the Machine Config Operator of one OpenShift release accepts in a MachineConfig beyond its Ignition config,
 * read from that release branch of openshift/machine-config-operator (commit in `source`). The Ignition versions
 * each release renders and accepts stay in `RELEASE_RENDERS` (versions.ts).
 */
export interface McoRelease {
  /** `4.16`: the release branch the facts were read from. */
  readonly release: string;
  /** `release-4.16@7327bb2359dd`. */
  readonly source: string;
  /**
   * `kernelType` values `ValidateMachineConfig` (pkg/controller/common/helpers.go) accepts besides the empty
   * string; anything else is "kernelType=<value> is invalid" and the render controller degrades the pool.
   */
  readonly kernelTypes: readonly string[];
  /**
   * Kernel types the daemon installs only on some CPU architectures (GOARCH, which is the node's
   * `kubernetes.io/arch`): `switchKernel` in pkg/daemon/update.go returns "64k-pages is only supported for
   * aarch64 architecture" on any other RHCOS/SCOS node, which degrades it.
   */
  readonly kernelTypeArchitectures: Readonly<Record<string, readonly string[]>>;
  /** The extensions allowlist (`SupportedExtensions`, before 4.16 the daemon's `getSupportedExtensions`). */
  readonly extensions: readonly string[];
  /**
   * Where the extensions allowlist is enforced. `daemon`: only by the daemon on RHCOS/SCOS nodes (applyExtensions:
   * `dn.os.IsEL()`); `controller`: also by `ValidateMachineConfig` in the render controller for every
   * MachineConfig; `controller-with-config`: there only when the MachineConfig has a `spec.config` (4.18 moved the
   * check inside `if cfg.Config.Raw != nil`).
   */
  readonly extensionsCheckedBy: 'daemon' | 'controller' | 'controller-with-config';
  /**
   * Where a change of `fips` is refused: `daemon` (pkg/daemon/update.go `checkFIPS`, against the node's
   * /proc/sys/crypto/fips_enabled, so only where the pool has nodes) or `controller` (4.16+:
   * pkg/controller/common/reconcile.go `isConfigReconcilable` compares the old and new rendered configs, and
   * the render controller degrades the pool before any node sees it).
   */
  readonly fipsCheckedBy: 'daemon' | 'controller';
  /**
   * Whether `MachineConfiguration` `cluster` has `spec.irreconcilableValidationOverrides` (openshift/api
   * operator/v1 types_machineconfiguration.go, feature gate IrreconcilableMachineConfig: TechPreview in 4.20–4.22,
   * on by default from 4.23). The CRD of a cluster without the gate prunes the field, so a stored value means the
   * gate is on.
   */
  readonly irreconcilableOverrides: boolean;
}

const KERNEL_TYPES_414 = ['default', 'realtime'] as const;
const KERNEL_TYPES_415 = ['default', 'realtime', '64k-pages'] as const;
const ARCH_64K = { '64k-pages': ['arm64'] } as const;
const EXT_414 = ['wasm', 'ipsec', 'usbguard', 'kerberos', 'kernel-devel', 'sandboxed-containers'] as const;
const EXT_418 = [...EXT_414, 'sysstat'] as const;
const EXT_419 = ['two-node-ha', ...EXT_418] as const;
const EXT_422 = EXT_419.filter((e) => e !== 'wasm');

type Facts = Omit<McoRelease, 'release'>;

function facts(
  source: string,
  kernelTypes: readonly string[],
  extensions: readonly string[],
  extensionsCheckedBy: Facts['extensionsCheckedBy'],
  fipsCheckedBy: Facts['fipsCheckedBy'],
  irreconcilableOverrides: boolean,
): Facts {
  return {
    source,
    kernelTypes,
    kernelTypeArchitectures: kernelTypes.includes('64k-pages') ? ARCH_64K : {},
    extensions,
    extensionsCheckedBy,
    fipsCheckedBy,
    irreconcilableOverrides,
  };
}

/** One row per release branch read; release-4.23 and release-5.0 are the same commit. */
const TABLE: Readonly<Record<string, Facts>> = {
  '4.14': facts('release-4.14@00b2e0b1cc83', KERNEL_TYPES_414, EXT_414, 'daemon', 'daemon', false),
  '4.15': facts('release-4.15@1ffa8341fb18', KERNEL_TYPES_415, EXT_414, 'daemon', 'daemon', false),
  '4.16': facts('release-4.16@7327bb2359dd', KERNEL_TYPES_415, EXT_414, 'controller', 'controller', false),
  '4.17': facts('release-4.17@3bdd678e83da', KERNEL_TYPES_415, EXT_414, 'controller', 'controller', false),
  '4.18': facts('release-4.18@f313997e0ba8', KERNEL_TYPES_415, EXT_418, 'controller-with-config', 'controller', false),
  '4.19': facts('release-4.19@1a6905d980fd', KERNEL_TYPES_415, EXT_419, 'controller-with-config', 'controller', false),
  '4.20': facts('release-4.20@afed09939d80', KERNEL_TYPES_415, EXT_419, 'controller-with-config', 'controller', true),
  '4.21': facts('release-4.21@db84d8368ef7', KERNEL_TYPES_415, EXT_419, 'controller-with-config', 'controller', true),
  '4.22': facts('release-4.22@9027c94cde45', KERNEL_TYPES_415, EXT_422, 'controller-with-config', 'controller', true),
  '4.23': facts('release-4.23@d20efd9b9bdb', KERNEL_TYPES_415, EXT_422, 'controller-with-config', 'controller', true),
  '5.0': facts('release-5.0@d20efd9b9bdb', KERNEL_TYPES_415, EXT_422, 'controller-with-config', 'controller', true),
};

/** The releases whose MCO branch was read for these fields, oldest first (the Ignition tables in versions.ts reach further back). */
export const KNOWN_RELEASES: readonly string[] = Object.keys(TABLE);

/** `4.14.8`, `4.16.0-rc.2`, `4.15.0-0.okd-2024-03-10-010116` → `4.14`, `4.16`, `4.15`; undefined when it is not one. */
export function releaseLine(version: string | undefined): string | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.|$|-)/.exec(version ?? '');
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

/** The facts of a release (`4.16` or a full version such as `4.16.3`); an unknown release is an error naming the known ones. */
export function mcoRelease(release: string): McoRelease {
  const line = releaseLine(release);
  const row = line === undefined ? undefined : TABLE[line];
  if (!line || !row)
    throw new RangeError(
      `unknown OpenShift release "${release}": the MCO's checks of kernelType, extensions and fips are known for ${KNOWN_RELEASES.join(', ')}`,
    );
  return { release: line, ...row };
}

/** The facts of the cluster's release, when it is one of KNOWN_RELEASES (the rules stay silent otherwise). */
export function mcoReleaseOf(openshiftVersion: string | undefined): McoRelease | undefined {
  const line = releaseLine(openshiftVersion);
  return line !== undefined && Object.hasOwn(TABLE, line) ? mcoRelease(line) : undefined;
}
