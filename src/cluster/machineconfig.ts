import { isRecord, member } from '../util/json.js';
import type { UnreadStrings } from '../input/elided-strings.js';
import { decodeDataUrl } from '../ignition/data-url.js';
import { fixedSections, type FixedSections } from '../ignition/fixed-sections.js';
import type { MergeFields } from './snapshot.js';

/**
 * What sctp-guard keeps of a MachineConfig. Rendered configs are hundreds of KB (kubelet, CRI-O and certificate
 * files of the pool) and clusters keep dozens: each is reduced to these few fields as it arrives.
 */
export interface MachineConfigRecord {
  metadata: { name: string; resourceVersion?: string };
  ignitionVersion?: string;
  /** The MachineConfigPool that owns a rendered config (ownerReferences), or the role label of a plain one. */
  pool?: string;
  rendered: boolean;
  sctp: SctpFacts;
  /** Of a rendered config: what it carries in the sections the daemon cannot change (usually nothing). */
  fixed?: FixedSections;
  /** Of a plain MachineConfig: its labels, which the pools' machineConfigSelector match. */
  labels?: Record<string, string>;
  /** fips (when true), kernelType and extensions, when set. */
  merge?: MergeFields;
  /**
   * A config the MCO's controllers generated (not rendered): written in the Ignition version of the controller
   * that runs (its ign3types MaxVersion, ctrlcommon.NewIgnConfig), so during an upgrade the first sign of the new one.
   */
  generated?: true;
}

/**
 * How the MCO tells its own configs from the user's: a non-empty annotation with its controller's version hash
 * (openshift/machine-config-operator pkg/controller/common/constants.go GeneratedByControllerVersionAnnotationKey,
 * read by MergeMachineConfigs in helpers.go and the render controller, 4.1 to main).
 */
export const GENERATED_BY_ANNOTATION = 'machineconfiguration.openshift.io/generated-by-controller-version';

export function generatedByController(metadata: unknown): string | undefined {
  const annotations: unknown = isRecord(metadata) ? metadata.annotations : undefined;
  const value = isRecord(annotations) ? annotations[GENERATED_BY_ANNOTATION] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Whether a node running this config carries SCTP, and why (not). */
export interface SctpFacts {
  carries: boolean | 'unknown';
  reason: string;
}

export const BLACKLIST_FILE = '/etc/modprobe.d/sctp-blacklist.conf';
const MODULES_LOAD_DIR = '/etc/modules-load.d/';
const MODPROBE_DIR = '/etc/modprobe.d/';
/** Commands that make `install sctp ...` a no-op: the module is never loaded. */
const NOOP_COMMANDS = new Set(['/bin/false', '/bin/true', '/usr/bin/false', '/usr/bin/true', 'false', 'true', ':']);

/** A file analyzeSctp reads: the contents of every other file are never decoded. */
function decidesSctp(path: string): boolean {
  return path.endsWith('.conf') && (path.startsWith(MODULES_LOAD_DIR) || path.startsWith(MODPROBE_DIR));
}

/**
 * The strings reduceMachineConfig never reads (UnreadStrings): the contents of the files that do not decide SCTP,
 * `spec.config.storage.files[i].contents.source` and `.append[j].source` (Ignition 2.x and 3.x), nearly all of a
 * rendered config's size. A file without a string path is never read at all.
 */
export const machineConfigUnread: UnreadStrings = (object, path, read) => {
  const [spec, config, storage, files, index, ...rest] = path;
  if (spec !== 'spec' || config !== 'config' || storage !== 'storage' || files !== 'files') return false;
  if (typeof index !== 'number') return false;
  const content =
    (rest.length === 2 && rest[0] === 'contents' && rest[1] === 'source') ||
    (rest.length === 3 && rest[0] === 'append' && typeof rest[1] === 'number' && rest[2] === 'source');
  if (!content) return false;
  const list = member(member(member(isRecord(object) ? object : {}, 'spec'), 'config'), 'storage').files;
  const file: unknown = Array.isArray(list) ? list[index] : undefined;
  const filePath = read(isRecord(file) ? file.path : undefined);
  return typeof filePath !== 'string' || !decidesSctp(filePath);
};

export function reduceMachineConfig(raw: Record<string, unknown>): MachineConfigRecord {
  const metadata = isRecord(raw.metadata) ? raw.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const spec = isRecord(raw.spec) ? raw.spec : {};
  const config = isRecord(spec.config) ? spec.config : {};
  const ignition = isRecord(config.ignition) ? config.ignition : {};
  const owner = Array.isArray(metadata.ownerReferences)
    ? metadata.ownerReferences.find(
        (o: unknown) => isRecord(o) && o.kind === 'MachineConfigPool' && typeof o.name === 'string',
      )
    : undefined;
  const labels = isRecord(metadata.labels) ? metadata.labels : {};
  const role = labels['machineconfiguration.openshift.io/role'];
  const pool = isRecord(owner) ? (owner.name as string) : typeof role === 'string' ? role : undefined;
  const rendered = isRecord(owner) || name.startsWith('rendered-');
  const fixed = rendered ? fixedSections(config) : {};
  const stringLabels = Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const merge = mergeFields(spec);
  return {
    metadata: {
      name,
      ...(typeof metadata.resourceVersion === 'string' ? { resourceVersion: metadata.resourceVersion } : {}),
    },
    ...(typeof ignition.version === 'string' ? { ignitionVersion: ignition.version } : {}),
    ...(pool ? { pool } : {}),
    rendered,
    sctp: analyzeSctp(config, spec.kernelArguments, name),
    ...(Object.keys(fixed).length > 0 ? { fixed } : {}),
    ...(!rendered && Object.keys(stringLabels).length > 0 ? { labels: stringLabels } : {}),
    ...(merge ? { merge } : {}),
    ...(!rendered && generatedByController(metadata) !== undefined ? { generated: true as const } : {}),
  };
}

/** A MachineConfig spec's fips, kernelType and extensions as the MCO reads them (absent, false and empty are unset). */
export function mergeFields(spec: Record<string, unknown>): MergeFields | undefined {
  const extensions = Array.isArray(spec.extensions)
    ? spec.extensions.filter((e): e is string => typeof e === 'string')
    : [];
  const out: MergeFields = {
    ...(spec.fips === true ? { fips: true } : {}),
    ...(typeof spec.kernelType === 'string' && spec.kernelType !== '' ? { kernelType: spec.kernelType } : {}),
    ...(extensions.length > 0 ? { extensions } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

interface FileWrite {
  /** The file's content replaces what the OS shipped (else the OS's own file stays and `appends` go after it). */
  replaces: boolean;
  content: Content;
  appends: Content[];
}

type Content = { text: string } | { opaque: string };

/**
 * Reads an Ignition config (2.x or 3.x) the way a node applies it, for the facts that decide SCTP:
 * systemd-modules-load loads the modules listed in /etc/modules-load.d/*.conf but honours modprobe blacklists
 * (systemd src/shared/module-util.c probes with KMOD_PROBE_APPLY_BLACKLIST), and RHCOS ships
 * /etc/modprobe.d/sctp-blacklist.conf with `blacklist sctp`. So a node carries SCTP only when its config lists
 * sctp in a modules-load.d file, replaces the blacklist file, and nothing else in modprobe.d disables sctp.
 */
export function analyzeSctp(config: Record<string, unknown>, kernelArguments: unknown, name = 'the config'): SctpFacts {
  const ignition = isRecord(config.ignition) ? config.ignition : {};
  const v2 = typeof ignition.version === 'string' && ignition.version.startsWith('2.');
  const storage = isRecord(config.storage) ? config.storage : {};
  const entries = new Map<string, Record<string, unknown>>();
  // Later entries for the same path win, as in the MCO's merge and its 2.2 duplicate removal.
  for (const f of Array.isArray(storage.files) ? storage.files : []) {
    if (isRecord(f) && typeof f.path === 'string') entries.set(f.path, f);
  }
  // Only the files that decide SCTP are decoded: a rendered config's other files (and a gzip bomb among them)
  // are never inflated.
  const files = new Map<string, FileWrite>();
  for (const [path, f] of entries) if (decidesSctp(path)) files.set(path, v2 ? fileWriteV2(f) : fileWriteV3(f));

  const blockers: string[] = [];
  const opaque: string[] = [];
  let loads = false;
  for (const [path, w] of files) {
    const texts: string[] = [];
    for (const c of [w.content, ...w.appends]) {
      if ('text' in c) texts.push(c.text);
      else opaque.push(`${path}: ${c.opaque}`);
    }
    if (path.startsWith(MODULES_LOAD_DIR) && texts.some(listsSctp)) loads = true;
    if (path.startsWith(MODPROBE_DIR)) {
      const disabling = texts.flatMap(sctpDisablingLines);
      if (disabling.length > 0) blockers.push(`${path} has "${disabling[0]}"`);
    }
  }
  const blacklist = files.get(BLACKLIST_FILE);
  if (!blacklist || !blacklist.replaces) blockers.unshift(`${name} keeps the RHCOS ${BLACKLIST_FILE} (blacklist sctp)`);
  for (const arg of Array.isArray(kernelArguments) ? kernelArguments : []) {
    if (
      typeof arg === 'string' &&
      /^(module_blacklist|modprobe\.blacklist)=/.test(arg) &&
      arg.split('=')[1]!.split(',').includes('sctp')
    ) {
      blockers.push(`kernel argument ${arg}`);
    }
  }
  if (!loads) blockers.push(`no file under ${MODULES_LOAD_DIR} in ${name} lists sctp`);
  if (blockers.length === 0) {
    // A modprobe.d file that cannot be read (too large to inflate) may hold `blacklist sctp`: cannot tell.
    const unread = opaque.filter((o) => o.startsWith(MODPROBE_DIR));
    if (unread.length > 0)
      return {
        carries: 'unknown',
        reason: `${name} loads sctp and replaces ${BLACKLIST_FILE}, but cannot read ${unread.join(', ')}`,
      };
    return { carries: true, reason: `${name} loads sctp and replaces ${BLACKLIST_FILE}` };
  }
  if (opaque.length > 0)
    return { carries: 'unknown', reason: `${blockers.join('; ')}; cannot read ${opaque.join(', ')}` };
  return { carries: false, reason: blockers.join('; ') };
}

// Ignition 2.x: files overwrite by default; `append: true` appends (coreos/ign-converter translate/v23tov30).
function fileWriteV2(f: Record<string, unknown>): FileWrite {
  const content = contentOf(f.contents);
  return f.append === true
    ? { replaces: false, content: { text: '' }, appends: [content] }
    : { replaces: true, content, appends: [] };
}

// Ignition 3.x: `contents` replaces the file when `overwrite` is true, which the MCO sets on rendered files that
// did not say; `append` adds after the (replaced or original) content.
function fileWriteV3(f: Record<string, unknown>): FileWrite {
  const appends = (Array.isArray(f.append) ? f.append : []).map(contentOf);
  const hasSource = isRecord(f.contents) && typeof f.contents.source === 'string';
  const replaces = f.overwrite === true || (f.overwrite === undefined && (hasSource || appends.length === 0));
  return { replaces, content: hasSource ? contentOf(f.contents) : { text: '' }, appends };
}

function contentOf(resource: unknown): Content {
  if (!isRecord(resource) || typeof resource.source !== 'string') return { text: '' };
  const source = resource.source;
  if (!source.startsWith('data:')) return { opaque: `content comes from ${source.split(':')[0]}: URL` };
  try {
    const compression = typeof resource.compression === 'string' ? resource.compression : undefined;
    return { text: decodeDataUrl(source, compression).toString('utf8') };
  } catch (err) {
    return { opaque: `undecodable data URL (${(err as Error).message})` };
  }
}

/** The lines of a text one at a time: a file of millions of empty lines costs no array of them. */
function* lines(text: string): Generator<string> {
  for (let start = 0; start <= text.length;) {
    const end = text.indexOf('\n', start);
    const stop = end < 0 ? text.length : end;
    yield text.slice(start, stop > start && text[stop - 1] === '\r' ? stop - 1 : stop);
    start = stop + 1;
  }
}

/** modules-load.d(5): one module per line; lines starting with # or ; are comments. */
function listsSctp(text: string): boolean {
  for (const line of lines(text)) if (line.trim() === 'sctp') return true;
  return false;
}

/** modprobe.d(5) lines that keep sctp from loading: `blacklist sctp` and `install sctp /bin/false` (or true). */
function sctpDisablingLines(text: string): string[] {
  const found: string[] = [];
  for (const line of lines(text)) {
    // Only a line naming sctp is split into words.
    if (!line.includes('sctp')) continue;
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const [cmd, mod, ...rest] = words;
    if (
      mod === 'sctp' &&
      (cmd === 'blacklist' || (cmd === 'install' && rest.length > 0 && NOOP_COMMANDS.has(rest[0]!)))
    )
      found.push(words.join(' '));
  }
  return found;
}
