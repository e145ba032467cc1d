import { cloneJson, isRecord, member, records } from '../util/json.js';
import { escapePointer, pointerTokens } from '../util/json-pointer.js';
import { cleanPath, entries } from './paths.js';
import { ONLY_CORE_USER_FIX } from './checks.js';
import { error, hasErrors, warning, type Problem } from './problems.js';

type Rec = Record<string, unknown>;

/**
 * Ignition 2.2.0 → 3.0.0 the way the MCO does it (openshift/machine-config-operator
 * pkg/controller/common/helpers.go ParseAndConvertConfig): removeIgnDuplicateFilesUnitsUsers first, then
 * ign2_3.Translate and coreos/ign-converter translate/v23tov30 with `root` as the only filesystem. The input has
 * passed the 2.2.0 schema; unknown keys are not copied (Go's decoder drops them too). `sourcePointer` takes a
 * field of the 3.0 config back to where the input has it, for problems found in the 3.0 form.
 */
export function translateV22ToV30(config: Rec): {
  config?: Rec;
  problems: Problem[];
  sourcePointer: (pointer: string) => string;
} {
  const problems: Problem[] = [];
  const { config: deduped, origin } = removeDuplicates(config, problems);
  const sourcePointer = (pointer: string) => inputPointer(pointer, origin);
  // Found in the deduplicated config, whose lists are indexed as the 3.0 config's.
  const refused: Problem[] = [];
  refuseUntranslatable(deduped, refused);
  problems.push(...refused.map((p) => ({ ...p, pointer: sourcePointer(p.pointer) })));
  if (hasErrors(problems)) return { problems, sourcePointer };

  const out: Rec = { ignition: translateIgnition(member(deduped, 'ignition')) };
  const passwd = compact({
    users: list(records(member(deduped, 'passwd').users).map(translateUser)),
    groups: list(records(member(deduped, 'passwd').groups).map(translateGroup)),
  });
  const storage = member(deduped, 'storage');
  const storageOut = compact({
    disks: list(records(storage.disks).map(translateDisk)),
    raid: list(records(storage.raid).map(translateRaid)),
    files: list(records(storage.files).map(translateFile)),
    directories: list(
      records(storage.directories).map((d) => compact({ ...translateNode(d), mode: d.mode ?? undefined })),
    ),
    links: list(
      records(storage.links).map((l) => compact({ ...translateNode(l), hard: trueOnly(l.hard), target: l.target })),
    ),
  });
  const units = list(records(member(deduped, 'systemd').units).map(translateUnit));
  if (passwd) out.passwd = passwd;
  if (storageOut) out.storage = storageOut;
  if (units) out.systemd = { units };
  return { config: out, problems, sourcePointer };
}

/** Where the entries left after removeDuplicates were in the input: their indices. */
interface Origin {
  files: number[];
  units: number[];
  /** The user core the others were merged into, when there were several. */
  user?: number;
}

/**
 * A pointer into the 3.0 config → the same field in the 2.2 input: indices before duplicates were removed (the
 * entry with the highest index survives: ign-converter RemoveDuplicateFilesUnitsUsers), `merge` written `append`
 * (v23tov30 Translate: `Merge: translateCfgRefs(cfg.Ignition.Config.Append)`), a 2.x `append: true` file's
 * `contents` become its 3.0 `append[0]` (translateFiles). A field the translation made up (an explicit `overwrite`)
 * keeps its 3.0 name: a line lookup stops at its nearest parent.
 */
function inputPointer(pointer: string, origin: Origin): string {
  const tokens = pointerTokens(pointer);
  const [top, list, index, ...rest] = tokens;
  const at = Number(index);
  if (top === 'storage' && list === 'files' && origin.files[at] !== undefined) {
    tokens[2] = String(origin.files[at]);
    if (rest[0] === 'append' && rest[1] === '0') tokens.splice(3, 2, 'contents');
  } else if (top === 'systemd' && list === 'units' && origin.units[at] !== undefined) {
    tokens[2] = String(origin.units[at]);
  } else if (top === 'passwd' && list === 'users' && origin.user !== undefined) {
    tokens[2] = String(origin.user);
  } else if (top === 'ignition' && list === 'config' && index === 'merge') {
    tokens[2] = 'append';
  }
  return tokens.map((t) => `/${escapePointer(t)}`).join('');
}

/**
 * Ignition 2.0/2.1 → 2.2 as coreos/ignition `config/v2_1` TranslateFromV2_0 and `config/v2_2` TranslateFromV2_1
 * do it (tag v0.35.0). The input has passed its version's schema and lost the keys that version does not know
 * (Go's decoder drops them). Both steps copy fields one for one; what changes is that a file's or directory's
 * mode becomes explicit (`util.IntToPtr(x.Mode)`: an absent mode is 0) and 2.0's owner ids likewise
 * (`NodeUser{ID: util.IntToPtr(oldFile.User.Id)}`).
 */
export function upgradeToV22(config: Rec, from: '2.0.0' | '2.1.0'): Rec {
  const out = cloneJson(config);
  out.ignition = { ...member(out, 'ignition'), version: '2.2.0' };
  const storage = member(out, 'storage');
  for (const kind of ['files', 'directories'] as const) {
    for (const node of records(storage[kind])) {
      node.mode = typeof node.mode === 'number' ? node.mode : 0;
      if (from !== '2.0.0') continue;
      for (const owner of ['user', 'group'] as const)
        node[owner] = { id: isRecord(node[owner]) && typeof node[owner].id === 'number' ? node[owner].id : 0 };
    }
  }
  return out;
}

/**
 * removeIgnDuplicateFilesUnitsUsers: for a file path or unit name given more than once the last entry wins
 * (a unit also keeps the earlier entries' drop-ins it lacks); users must all be `core` and are merged into one,
 * SSH keys concatenated and deduplicated. Unlike the MCO, survivors keep their order (the MCO reverses it;
 * Ignition orders by path depth, so order carries no meaning).
 */
function removeDuplicates(config: Rec, problems: Problem[]): { config: Rec; origin: Origin } {
  const storage = member(config, 'storage');
  const systemd = member(config, 'systemd');
  const passwd = member(config, 'passwd');
  const files = lastWins(storage.files, '/storage/files', 'path', 'file', problems);
  const units = lastWins(systemd.units, '/systemd/units', 'name', 'unit', problems);
  const origin: Origin = { files: files.map((f) => f.index), units: units.map((u) => u.index) };
  for (const { entry: unit } of units) {
    const dropins = records(unit.dropins);
    const earlier = records(systemd.units)
      .filter((u) => u.name === unit.name)
      .slice(0, -1)
      .reverse();
    for (const d of earlier.flatMap((u) => records(u.dropins))) {
      if (!dropins.some((have) => have.name === d.name)) dropins.push(d);
    }
    if (dropins.length > 0) unit.dropins = dropins;
  }
  const out: Rec = {
    ...config,
    storage: { ...storage, files: files.map((f) => f.entry) },
    systemd: { ...systemd, units: units.map((u) => u.entry) },
  };
  const users = entries(passwd.users, '/passwd/users');
  const strangers = users.filter(([u]) => u.name !== 'core');
  for (const [u, at] of strangers) {
    problems.push(
      error(
        `passwd.users has user "${String(u.name)}": the MCO refuses it ("unexpected user with name: ${String(u.name)}. Only core user is supported")`,
        ONLY_CORE_USER_FIX,
        `user "${String(u.name)}": only user core is supported`,
        `${at}/name`,
      ),
    );
  }
  if (users.length > 1 && strangers.length === 0) {
    const [lastUser, lastAt] = users[users.length - 1]!;
    const last = { ...lastUser };
    const keys = [
      ...stringsOf(last.sshAuthorizedKeys),
      ...users
        .slice(0, -1)
        .reverse()
        .flatMap(([u]) => stringsOf(u.sshAuthorizedKeys)),
    ];
    last.sshAuthorizedKeys = [...new Set(keys)];
    problems.push(
      warning(
        `passwd.users lists user core ${users.length} times: merged into the last entry, SSH keys combined (as the MCO does)`,
        'list user core once',
        `user core listed ${users.length} times; merged into one`,
        users[1]![1],
      ),
    );
    out.passwd = { ...passwd, users: [last] };
    origin.user = Number(lastAt.slice(lastAt.lastIndexOf('/') + 1));
  }
  return { config: out, origin };
}

/** The entries whose key is not given again later, each with its index in the list. */
function lastWins(
  list: unknown,
  at: string,
  keyField: string,
  what: string,
  problems: Problem[],
): Array<{ entry: Rec; index: number }> {
  const all = entries(list, at).map(([e, pointer]) => ({ e, k: String(e[keyField]), pointer }));
  const counts = new Map<string, number>();
  for (const { k } of all) counts.set(k, (counts.get(k) ?? 0) + 1);
  const seen = new Map<string, number>();
  const out: Array<{ entry: Rec; index: number }> = [];
  // The second entry with a key: what the warning points at.
  const second = new Map<string, string>();
  for (const { e, k, pointer } of all) {
    const nth = (seen.get(k) ?? 0) + 1;
    seen.set(k, nth);
    if (nth === 2) second.set(k, `${pointer}/${keyField}`);
    if (nth === counts.get(k)) out.push({ entry: { ...e }, index: Number(pointer.slice(at.length + 1)) });
  }
  for (const [k, n] of counts) {
    if (n < 2) continue;
    problems.push(
      warning(
        `${what} ${k} is given ${n} times: the MCO keeps the last entry and drops the others (removeIgnDuplicateFilesUnitsUsers)`,
        `keep one entry for ${what} ${k}`,
        `${what} ${k} given ${n} times; the last one is kept`,
        second.get(k)!,
      ),
    );
  }
  return out;
}

/** What ign-converter's Check2_3 refuses: no 3.x form, or a 2.x field deprecated (Check2_3 rejects deprecated). */
function refuseUntranslatable(config: Rec, problems: Problem[]): void {
  const storage = member(config, 'storage');
  if (records(member(config, 'networkd').units).length > 0) {
    problems.push(
      error(
        'spec.config.networkd has no Ignition 3 form (ign-converter v23tov30 refuses networkd units)',
        'write the .network/.netdev/.link files under /etc/systemd/network with storage.files',
        'networkd section has no Ignition 3 form',
        '/networkd/units',
      ),
    );
  }
  for (const [i, fs] of records(storage.filesystems).entries()) {
    if (fs.name === 'root') continue;
    problems.push(
      error(
        `spec.config.storage.filesystems[${i}] ("${String(fs.name ?? '')}") has no Ignition 3 form: the MCO maps only the filesystem root`,
        'remove it; the machine-config daemon cannot create filesystems on running nodes anyway',
        `filesystem "${String(fs.name ?? '')}" cannot be translated; only root is mapped`,
        `/storage/filesystems/${i}`,
      ),
    );
  }
  for (const kind of ['files', 'directories', 'links'] as const) {
    for (const [node, at] of entries(storage[kind], `/storage/${kind}`)) {
      if (node.filesystem === 'root') continue;
      problems.push(
        error(
          `${String(node.path)} in spec.config.storage.${kind} is on filesystem "${String(node.filesystem)}": the MCO maps only the filesystem root to Ignition 3`,
          'use filesystem: root with the full path',
          `${String(node.path)} is on filesystem "${String(node.filesystem)}"; only root is mapped`,
          `${at}/filesystem`,
        ),
      );
    }
  }
  for (const [d, disk] of records(storage.disks).entries()) {
    for (const [p, part] of records(disk.partitions).entries()) {
      for (const field of ['size', 'start'] as const) {
        if (part[field] === undefined || part[field] === null) continue;
        problems.push(
          error(
            `spec.config.storage.disks[${d}].partitions[${p}].${field} (in sectors) is deprecated in 2.3 and has no Ignition 3 form`,
            `write the config in Ignition 3 with ${field}MiB`,
            `partition ${field} in sectors has no Ignition 3 form`,
            `/storage/disks/${d}/partitions/${p}/${field}`,
          ),
        );
      }
    }
  }
  for (const [i, user] of records(member(config, 'passwd').users).entries()) {
    if (user.create === undefined || user.create === null) continue;
    problems.push(
      error(
        `spec.config.passwd.users[${i}].create is deprecated and has no Ignition 3 form`,
        'move its fields (uid, groups, shell ...) onto the user itself',
        'passwd user "create" has no Ignition 3 form',
        `/passwd/users/${i}/create`,
      ),
    );
  }
}

function translateIgnition(ign: Rec): Rec {
  const config = member(ign, 'config');
  const tls = member(member(ign, 'security'), 'tls');
  const timeouts = member(ign, 'timeouts');
  return compact({
    version: '3.0.0',
    config: compact({
      merge: list(records(config.append).map(translateReference)),
      replace: isRecord(config.replace) ? translateReference(config.replace) : undefined,
    }),
    security: compact({
      tls: compact({ certificateAuthorities: list(records(tls.certificateAuthorities).map(translateReference)) }),
    }),
    timeouts: compact({
      httpResponseHeaders: timeouts.httpResponseHeaders ?? undefined,
      httpTotal: timeouts.httpTotal ?? undefined,
    }),
  })!;
}

function translateReference(ref: Rec): Rec {
  return compact({ source: ref.source, verification: translateVerification(ref.verification) })!;
}

/** An empty `verification: {}` (as in the blog post's MachineConfig) says nothing: it is dropped. */
function translateVerification(value: unknown): Rec | undefined {
  const hash = isRecord(value) ? value.hash : undefined;
  return typeof hash === 'string' && hash !== '' ? { hash } : undefined;
}

function translateNode(node: Rec): Rec {
  const owner = (value: unknown) =>
    isRecord(value) ? compact({ id: value.id ?? undefined, name: nonEmpty(value.name) }) : undefined;
  // ign-converter translateNode: path.Join(fsMap["root"], n.Path), so a 2.x path that is absolute but not clean
  // (Ignition 2 checks only path.IsAbs) comes out clean.
  const path = typeof node.path === 'string' ? cleanPath(`/${node.path}`) : node.path;
  return { path, overwrite: node.overwrite ?? undefined, user: owner(node.user), group: owner(node.group) };
}

/** 2.x overwrote files by default: `overwrite` is made explicit; `append: true` becomes overwrite false + append. */
function translateFile(file: Rec): Rec {
  const node = translateNode(file);
  const contents = member(file, 'contents');
  const resource = compact({
    compression: nonEmpty(contents.compression),
    source: typeof contents.source === 'string' ? contents.source : '',
    verification: translateVerification(contents.verification),
  })!;
  const append = file.append === true;
  return compact({
    path: node.path,
    mode: file.mode ?? undefined,
    overwrite: append ? false : (node.overwrite ?? true),
    user: node.user,
    group: node.group,
    contents: append ? undefined : resource,
    append: append ? [resource] : undefined,
  })!;
}

/** `enable` (deprecated) and `enabled` become `enabled`; an explicit `enabled: false` wins (ign-converter). */
function translateUnit(unit: Rec): Rec {
  let enabled: boolean | undefined = unit.enabled === true || unit.enable === true ? true : undefined;
  if (unit.enabled === false) enabled = false;
  return compact({
    name: unit.name,
    enabled,
    mask: trueOnly(unit.mask),
    contents: nonEmpty(unit.contents),
    dropins: list(records(unit.dropins).map((d) => compact({ name: d.name, contents: nonEmpty(d.contents) })!)),
  })!;
}

function translateUser(user: Rec): Rec {
  return compact({
    name: user.name,
    passwordHash: user.passwordHash ?? undefined,
    sshAuthorizedKeys: list(stringsOf(user.sshAuthorizedKeys)),
    uid: user.uid ?? undefined,
    gecos: nonEmpty(user.gecos),
    homeDir: nonEmpty(user.homeDir),
    noCreateHome: trueOnly(user.noCreateHome),
    primaryGroup: nonEmpty(user.primaryGroup),
    groups: list(stringsOf(user.groups)),
    noUserGroup: trueOnly(user.noUserGroup),
    noLogInit: trueOnly(user.noLogInit),
    shell: nonEmpty(user.shell),
    system: trueOnly(user.system),
  })!;
}

function translateGroup(group: Rec): Rec {
  return compact({
    name: group.name,
    gid: group.gid ?? undefined,
    passwordHash: nonEmpty(group.passwordHash),
    system: trueOnly(group.system),
  })!;
}

function translateDisk(disk: Rec): Rec {
  return compact({
    device: disk.device,
    wipeTable: trueOnly(disk.wipeTable),
    partitions: list(
      records(disk.partitions).map(
        (p) =>
          compact({
            label: p.label ?? undefined,
            number: p.number || undefined,
            typeGuid: nonEmpty(p.typeGuid),
            guid: nonEmpty(p.guid),
          }) ?? {},
      ),
    ),
  })!;
}

function translateRaid(raid: Rec): Rec {
  return compact({
    name: raid.name,
    level: raid.level,
    devices: raid.devices,
    spares: raid.spares || undefined,
    options: list(stringsOf(raid.options)),
  })!;
}

// ign-converter's util.StrP / BoolP / IntP: Go zero values are left out of the 3.x config.
function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function trueOnly(value: unknown): true | undefined {
  return value === true ? true : undefined;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function list<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}

/** The object without its undefined members; undefined when nothing is left (clarketm/json omits empty structs). */
function compact(obj: Rec): Rec | undefined {
  const out: Rec = {};
  let kept = 0;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === undefined) continue;
    out[k] = v;
    kept++;
  }
  return kept > 0 ? out : undefined;
}
