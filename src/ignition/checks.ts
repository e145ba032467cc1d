import { isRecord, member, records } from '../util/json.js';
import { escapePointer } from '../util/json-pointer.js';
import { DataUrlTooLarge, decodeDataUrl, parseDataUrl } from './data-url.js';
import { canonical, sectionEntries, type Baseline, type FixedSection } from './fixed-sections.js';
import { entries } from './paths.js';
import { error, warning, type Problem } from './problems.js';

type Rec = Record<string, unknown>;

/**
 * What Ignition 3's own validation refuses beyond the schema (coreos/ignition `config/v3_N/types`,
 * `config/validate`), and what the MCO refuses on top (openshift/machine-config-operator
 * pkg/controller/common/helpers.go ValidateIgnition, and reconcile.go isConfigReconcilable: the sections the
 * machine-config daemon cannot apply to running nodes). Input: a schema-valid 3.x config.
 */
export function checkConfig(config: Rec, baselines: readonly Baseline[] = []): Problem[] {
  return [...ignitionChecks(config), ...mcoChecks(config, baselines)];
}

interface Resource {
  where: string;
  resource: Rec;
  file?: Rec;
  /** The resource's JSON pointer. */
  pointer: string;
}

/** Every resource with a URL, and where it sits, for the data URL checks. */
function resources(config: Rec): Resource[] {
  const ign = member(config, 'ignition');
  const cfg = member(ign, 'config');
  const out: Resource[] = [];
  for (const [i, [r, pointer]] of entries(cfg.merge, '/ignition/config/merge').entries())
    out.push({ where: `ignition.config.merge[${i}]`, resource: r, pointer });
  if (isRecord(cfg.replace))
    out.push({ where: 'ignition.config.replace', resource: cfg.replace, pointer: '/ignition/config/replace' });
  const cas = member(member(ign, 'security'), 'tls').certificateAuthorities;
  for (const [i, [r, pointer]] of entries(cas, '/ignition/security/tls/certificateAuthorities').entries())
    out.push({ where: `ignition.security.tls.certificateAuthorities[${i}]`, resource: r, pointer });
  for (const [file, at] of entries(member(config, 'storage').files, '/storage/files')) {
    if (isRecord(file.contents))
      out.push({ where: `contents of ${String(file.path)}`, resource: file.contents, file, pointer: `${at}/contents` });
    for (const [i, [r, pointer]] of entries(file.append, `${at}/append`).entries())
      out.push({ where: `append[${i}] of ${String(file.path)}`, resource: r, file, pointer });
  }
  for (const [luks, at] of entries(member(config, 'storage').luks, '/storage/luks')) {
    if (isRecord(luks.keyFile))
      out.push({ where: `keyFile of luks ${String(luks.name)}`, resource: luks.keyFile, pointer: `${at}/keyFile` });
  }
  return out;
}

function ignitionChecks(config: Rec): Problem[] {
  const problems: Problem[] = [];
  const storage = member(config, 'storage');
  const duplicate = (list: string, key: string, pointer: string) =>
    problems.push(
      error(
        `spec.config.${list} has ${key} more than once: Ignition 3 refuses duplicate entries`,
        `keep one entry for ${key} (the MCO merges duplicates only in 2.2 configs)`,
        `${list} has ${key} more than once`,
        pointer,
      ),
    );
  // Each entry's key, with the pointer of the field that holds it (the second occurrence is the one reported).
  const keysOf = (list: unknown, at: string, key: string): Array<[string, string]> =>
    entries(list, at).map(([e, pointer]) => [String(e[key]), `${pointer}/${key}`]);
  // Files, directories and links share one namespace of paths (ign-converter v23tov30 Check2_3, spec 3.0).
  findDuplicates(
    ['files', 'directories', 'links'].flatMap((k) => keysOf(storage[k], `/storage/${k}`, 'path')),
    (p, pointer) => duplicate('storage', p, pointer),
  );
  const keyed: Array<[string, unknown, string]> = [
    ['systemd.units', member(config, 'systemd').units, 'name'],
    ['passwd.users', member(config, 'passwd').users, 'name'],
    ['passwd.groups', member(config, 'passwd').groups, 'name'],
    ['storage.disks', storage.disks, 'device'],
    ['storage.raid', storage.raid, 'name'],
    ['storage.luks', storage.luks, 'name'],
    ['storage.filesystems', storage.filesystems, 'device'],
  ];
  for (const [list, values, key] of keyed)
    findDuplicates(keysOf(values, `/${list.replace('.', '/')}`, key), (k, pointer) => duplicate(list, k, pointer));
  for (const [unit, at] of entries(member(config, 'systemd').units, '/systemd/units')) {
    findDuplicates(keysOf(unit.dropins, `${at}/dropins`, 'name'), (d, pointer) =>
      duplicate(`systemd.units (${String(unit.name)}) dropins`, d, pointer),
    );
  }

  for (const [file, at] of entries(storage.files, '/storage/files')) {
    const contents = isRecord(file.contents) ? file.contents : {};
    if (file.overwrite === true && (contents.source === undefined || contents.source === null)) {
      problems.push(
        error(
          `file ${String(file.path)} has overwrite: true but no contents.source: Ignition refuses it ("overwrite must be false if source is unspecified")`,
          'give contents.source (data:, for an empty file) or drop overwrite',
          `${String(file.path)}: overwrite true needs contents.source`,
          `${at}/overwrite`,
        ),
      );
    }
  }
  for (const kind of ['files', 'directories', 'links']) {
    for (const [node, at] of entries(storage[kind], `/storage/${kind}`)) {
      for (const owner of ['user', 'group'] as const) {
        const o = node[owner];
        if (!isRecord(o) || o.id === undefined || o.id === null || o.name === undefined || o.name === null) continue;
        problems.push(
          error(
            `${String(node.path)} sets both ${owner}.id and ${owner}.name: Ignition refuses it ("cannot set both id and name")`,
            `keep ${owner}.id or ${owner}.name`,
            `${String(node.path)}: both ${owner}.id and ${owner}.name`,
            `${at}/${owner}`,
          ),
        );
      }
    }
  }
  for (const { where, resource, pointer } of resources(config)) {
    const source = resource.source;
    if (typeof source !== 'string' || !source.startsWith('data:')) continue;
    try {
      parseDataUrl(source);
    } catch (err) {
      problems.push(
        error(
          `the data URL in ${where} is malformed: ${(err as Error).message}; Ignition refuses the config`,
          'percent-encode the content (space %20, newline %0A) or use ;base64',
          `malformed data URL in ${where}`,
          `${pointer}/source`,
        ),
      );
    }
  }
  return problems;
}

function findDuplicates(keys: Array<[string, string]>, report: (key: string, pointer: string) => void): void {
  if (keys.length < 2) return;
  const seen = new Set<string>();
  const reported = new Set<string>();
  for (const [key, pointer] of keys) {
    if (seen.has(key) && !reported.has(key)) {
      reported.add(key);
      report(key, pointer);
    }
    seen.add(key);
  }
}

export const ONLY_CORE_USER_FIX =
  'configure only the user core (its sshAuthorizedKeys and passwordHash); create other accounts with a systemd unit or a file';

/** pkg/daemon/constants MachineConfigDaemonForceFile: the daemon's own switch, never written by a config. */
const DAEMON_FORCE_FILE = '/run/machine-config-daemon-force';

/** 0o1204 → "01204", as Go's %#o prints it in the MCO's message. */
function goOctal(mode: number): string {
  return `0${mode.toString(8)}`;
}

/** The MCO's checks on a user MachineConfig, each with its own words. */
function mcoChecks(config: Rec, baselines: readonly Baseline[]): Problem[] {
  const problems: Problem[] = [];
  const storage = member(config, 'storage');
  const passwd = member(config, 'passwd');

  for (const [file, at] of entries(storage.files, '/storage/files')) {
    const path = String(file.path);
    if (typeof file.mode === 'number' && file.mode > 0o777) problems.push(modeTooLarge(path, file.mode, `${at}/mode`));
    if (records(file.append).length > 0) {
      problems.push(
        error(
          `file ${path} appends: the machine-config daemon refuses it on running nodes ("ignition file ${path} includes append"), the pool degrades`,
          'write the whole file with contents and overwrite: true',
          `${path}: append cannot be applied to running nodes`,
          `${at}/append`,
        ),
      );
    }
    if (path === DAEMON_FORCE_FILE) {
      problems.push(
        error(
          `the MCO refuses to write ${path} ("cannot create ${path} via Ignition")`,
          'remove this file',
          `cannot create ${path} via Ignition`,
          `${at}/path`,
        ),
      );
    }
  }

  // The daemon writes file contents itself and fetches nothing (DecodeIgnitionFileContents): inline data only.
  for (const { where, resource, file, pointer } of resources(config)) {
    const source = resource.source;
    if (!file || typeof source !== 'string' || source === '') continue;
    if (!source.startsWith('data:')) {
      problems.push(
        error(
          `the ${where} come from ${source.split(':')[0]}: URLs, but the machine-config daemon writes only inline data: URLs ("could not decode file content string")`,
          'inline the content as a data: URL',
          `${where}: only data: URLs are written by the daemon`,
          `${pointer}/source`,
        ),
      );
      continue;
    }
    try {
      decodeDataUrl(source, typeof resource.compression === 'string' ? resource.compression : undefined);
    } catch (err) {
      if (err instanceof DataUrlTooLarge) {
        // Inflated only up to the limit: whether the rest decompresses is not known, and is said so.
        problems.push(
          warning(
            `cannot tell whether the machine-config daemon can decode the ${where}: ${err.message}`,
            'keep inline file contents small; ship large files in the OS image or fetch them from a systemd unit',
            `${where}: too large to check (${err.message})`,
            `${pointer}/source`,
          ),
        );
        continue;
      }
      if (!/compress/i.test((err as Error).message)) continue; // malformed URLs are reported by the Ignition checks
      problems.push(
        error(
          `the ${where} cannot be decoded by the machine-config daemon: ${(err as Error).message}`,
          'gzip the bytes before base64-encoding them, or drop compression',
          `${where}: compression does not match the data`,
          `${pointer}/compression`,
        ),
      );
    }
  }

  for (const [user, at] of entries(passwd.users, '/passwd/users')) {
    const name = String(user.name);
    if (name !== 'core') {
      problems.push(
        error(
          `passwd.users has user "${name}": the machine-config daemon refuses it ("ignition passwd user section contains unsupported changes: non-core user")`,
          ONLY_CORE_USER_FIX,
          `user "${name}": only user core is supported`,
          `${at}/name`,
        ),
      );
      continue;
    }
    const extra = Object.keys(user).filter((k) => !['name', 'sshAuthorizedKeys', 'passwordHash'].includes(k));
    if (extra.length > 0) {
      problems.push(
        error(
          `user core sets ${extra.join(', ')}: the machine-config daemon changes only sshAuthorizedKeys and passwordHash ("SSH keys and password hash are not reconcilable")`,
          `remove ${extra.join(', ')} from user core`,
          `user core: only sshAuthorizedKeys and passwordHash can be set`,
          `${at}/${escapePointer(extra[0]!)}`,
        ),
      );
    }
  }
  const unappliable: Array<[FixedSection, string]> = [
    ['passwd.groups', 'ignition Passwd Groups section contains changes'],
    ['storage.disks', 'ignition disks section contains changes'],
    ['storage.filesystems', 'ignition filesystems section contains changes'],
    ['storage.raid', 'ignition raid section contains changes'],
    ['storage.directories', 'ignition directories section contains changes'],
    ['storage.links', 'ignition links section contains changes'],
  ];
  for (const [field, reason] of unappliable) {
    if (baselines.some((b) => b.overridden?.includes(field))) continue;
    // An entry the old rendered config already has is no change to the daemon (reflect.DeepEqual per section).
    const changed = sectionEntries(config, field).findIndex(
      (e) => !baselines.some((b) => b.sections[field]?.includes(canonical(e))),
    );
    if (changed === -1) continue;
    const known = baselines.length > 0 ? ` (not in ${baselines.map((b) => b.from).join(' or ')})` : '';
    problems.push(
      error(
        `spec.config.${field} changes what the nodes run${known}: the machine-config daemon refuses it on running nodes ("${reason}"), the pool degrades`,
        field === 'storage.directories' || field === 'storage.links'
          ? 'create it from a systemd unit (e.g. a oneshot with mkdir/ln), or let a file path imply the directory'
          : 'apply it at install time (installer manifests), not as a MachineConfig on a running cluster; an entry the pool already renders may stay as it is',
        `${field} cannot be applied to running nodes`,
        // The first entry that is a change.
        `/${field.replace('.', '/')}/${changed}`,
      ),
    );
  }
  const kargs = member(config, 'kernelArguments');
  if ([kargs.shouldExist, kargs.shouldNotExist].some((list) => Array.isArray(list) && list.length > 0)) {
    problems.push(
      error(
        'spec.config.kernelArguments cannot be applied by the machine-config daemon ("ignition kargs section contains changes")',
        'move the arguments to spec.kernelArguments of the MachineConfig',
        'use spec.kernelArguments, not spec.config.kernelArguments',
        '/kernelArguments',
      ),
    );
  }
  return problems;
}

/** validateIgn3FileModes: modes above 0777 (sticky, setuid, setgid) degrade the pool (Bugzilla 2038240). */
function modeTooLarge(path: string, mode: number, pointer: string): Problem {
  const asOctal = Number.parseInt(String(mode), 8);
  const typedInDecimal = /^[0-7]{3,4}$/.test(String(mode)) && asOctal <= 0o777;
  const fix = typedInDecimal
    ? `${mode} reads as the octal mode 0${String(mode)} typed in decimal: use ${asOctal} (JSON) or YAML 0${String(mode)}`
    : `use a mode of at most 511 (0777); in JSON modes are decimal (0644 is 420)`;
  return error(
    `invalid mode ${goOctal(mode)} for ${path}, cannot exceed 0777 (the MCO refuses it and the pool degrades)`,
    fix,
    typedInDecimal
      ? `${path}: mode ${mode} is ${goOctal(mode)}; use ${asOctal} or YAML 0${String(mode)}`
      : `${path}: mode ${goOctal(mode)} exceeds 0777`,
    pointer,
  );
}
