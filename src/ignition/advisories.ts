import { resources } from './checks.js';
import { DataUrlError, decodeDataUrl, parseDataUrl } from './data-url.js';
import { member, records } from '../util/json.js';
import { warning, type Problem } from './problems.js';

type Rec = Record<string, unknown>;

/** What works on the node but is likely not what the author meant. Input: a valid 3.x config. */
export function advisories(config: Rec): Problem[] {
  const problems: Problem[] = [];
  const storage = member(config, 'storage');
  for (const kind of ['files', 'directories'] as const) {
    for (const node of records(storage[kind])) {
      if (typeof node.mode === 'number' && readsLikeDecimal(node.mode)) problems.push(decimalMode(String(node.path), node.mode));
    }
  }
  for (const file of records(storage.files)) {
    const path = String(file.path);
    if (!MODULES_LOAD.test(path)) continue;
    const contents = member(file, 'contents');
    const text = decoded(contents);
    if (typeof contents.source === 'string' && text && text.length > 0 && text[text.length - 1] !== 0x0a) {
      problems.push(
        warning(
          `${path} does not end with a newline: systemd-modules-load reads it, but a line appended later (or another tool) joins the last one`,
          contents.source.startsWith('data:,') && contents.source.length <= 60 ? `add %0A at the end: ${contents.source}%0A` : 'end the content with a newline',
          `${path} has no trailing newline`,
        ),
      );
    }
  }
  for (const { where, resource } of resources(config)) {
    if (typeof resource.source === 'string' && resource.source.startsWith('data:')) problems.push(...encodingAdvice(where, resource.source));
  }
  return problems;
}

/** modules-load.d(5): /etc, /run and /usr/lib (and /lib) hold `*.conf` lists of modules. */
const MODULES_LOAD = /^\/(?:etc|run|usr\/lib|lib)\/modules-load\.d\/[^/]+\.conf$/;

function decoded(contents: Rec): Buffer | undefined {
  if (typeof contents.source !== 'string' || !contents.source.startsWith('data:')) return undefined;
  try {
    return decodeDataUrl(contents.source, typeof contents.compression === 'string' ? contents.compression : undefined);
  } catch (err) {
    if (err instanceof DataUrlError) return undefined; // refused elsewhere, with its reason
    throw err;
  }
}

/**
 * A plausible mode: read/execute digits only (0, 4, 5, 6, 7), owner ≥ group ≥ other. `400` is a valid mode
 * (0620, rw--w----), but it is not plausible while its digits read as octal (0400) are: it was typed in decimal.
 */
function plausible(mode: number): boolean {
  const digits = mode.toString(8).padStart(3, '0').split('').map(Number);
  if (digits.length !== 3 || digits.some((d) => ![0, 4, 5, 6, 7].includes(d))) return false;
  return digits[0]! >= digits[1]! && digits[1]! >= digits[2]!;
}

export function readsLikeDecimal(mode: number): boolean {
  if (mode > 0o777 || !/^[0-7]{3}$/.test(String(mode))) return false;
  return plausible(Number.parseInt(String(mode), 8)) && !plausible(mode);
}

function decimalMode(path: string, mode: number): Problem {
  const meant = Number.parseInt(String(mode), 8);
  return warning(
    `${path} has mode ${mode}, which is 0${mode.toString(8)} in octal; modes are decimal in Ignition JSON, so 0${String(mode)} was probably meant`,
    `use ${meant} (or YAML 0${String(mode)}) for 0${String(mode)}, or write 0${mode.toString(8)} to confirm`,
    `${path}: mode ${mode} is 0${mode.toString(8)}; meant 0${String(mode)} (${meant})?`,
  );
}

/** Data URLs that Ignition decodes, but not into what they seem to say. */
function encodingAdvice(where: string, source: string): Problem[] {
  let url;
  try {
    url = parseDataUrl(source);
  } catch {
    return []; // refused elsewhere
  }
  const out: Problem[] = [];
  const body = source.slice(source.indexOf(',') + 1);
  if (!url.base64 && body.includes('+')) {
    out.push(
      warning(
        `the data URL in ${where} contains "+": data URLs decode it as a plus sign, not a space`,
        'write a space as %20 (and a literal plus as %2B to be explicit)',
        `data URL in ${where}: "+" is a plus, not a space`,
      ),
    );
  }
  const charset = (url.params.charset ?? '').toLowerCase();
  const nonAscii = url.data.some((b) => b > 0x7f);
  if (url.mediaType.startsWith('text/') && nonAscii && (charset === 'us-ascii' || (charset === 'utf-8' && !isUtf8(url.data)))) {
    out.push(
      warning(
        `the data URL in ${where} declares charset ${url.params.charset} but holds bytes that are not ${url.params.charset}`,
        'declare the real charset (;charset=utf-8), or encode binary content with ;base64',
        `data URL in ${where}: content is not ${url.params.charset}`,
      ),
    );
  }
  return out;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
