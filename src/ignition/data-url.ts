// RFC 2397 data URLs as Ignition reads them. Ignition decodes `data:` sources with
// github.com/vincent-petithory/dataurl (coreos/ignition internal/resource/url.go), whose lexer
// (lex.go, rfc2396.go) is stricter than a browser's: this decoder follows it, so a source that
// Ignition would refuse on the node is refused here too, with the reason.
import { gunzipSync } from 'node:zlib';

export class DataUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataUrlError';
  }
}

/**
 * The most a compressed source is inflated to. A MachineConfig is at most etcd's 1.5 MB, but gzip expands up to
 * about 1,000 times: 1 MB of `data:` inflates to 1 GiB. Past this many bytes the content is not read ("cannot
 * tell"), so no request or stored object costs more than this beyond its own size.
 */
export const MAX_INFLATED_BYTES = 4 * 1024 * 1024;

/** The content inflates to more than the limit: what it holds is unknown, not wrong. */
export class DataUrlTooLarge extends DataUrlError {
  constructor(limit: number) {
    super(`the gzip content inflates to more than ${limit / (1024 * 1024)} MiB, which sctp-guard does not read`);
    this.name = 'DataUrlTooLarge';
  }
}

export interface DataUrl {
  /** `type/subtype`, `text/plain` when the URL names none (RFC 2397 default). */
  mediaType: string;
  params: Record<string, string>;
  base64: boolean;
  data: Buffer;
}

// RFC 2045 token: ASCII, no controls, no space, no tspecials.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The lexer accepts discrete/composite types by prefix, and x- extension tokens.
const KNOWN_TYPE = /^(?:text|image|audio|video|application|message|multipart)|^x-/i;
// isURLCharRune in lex.go: printable ASCII minus delims and "unwise" characters.
const URL_DATA = /^[^\x00-\x20\x7f-\uffff<>#"{}|\\^[\]`]*$/;
const BASE64_DATA = /^[A-Za-z0-9+/=]*$/;

/**
 * Go's base64.StdEncoding on text of base64 characters: padded, so the length is a multiple of 4, and '=' only
 * as the last one or two. Checked by position: a regex of 4-character groups backtracks through every group
 * of a 500 KB rendered config.
 */
function isStdBase64(body: string): boolean {
  if (body.length % 4 !== 0) return false;
  const firstPad = body.indexOf('=');
  return (
    firstPad < 0 || (firstPad >= body.length - 2 && (firstPad === body.length - 1 || body[body.length - 1] === '='))
  );
}

/** Parses a data URL into media type, parameters and raw (still compressed) bytes. */
export function parseDataUrl(source: string): DataUrl {
  if (!source.startsWith('data:')) throw new DataUrlError('not a data URL: missing "data:" prefix');
  const comma = source.indexOf(',');
  if (comma < 0) throw new DataUrlError('missing comma before data');
  const header = source.slice(5, comma);
  const body = source.slice(comma + 1);

  const parts = splitHeader(header);
  let mediaType = 'text/plain';
  const params: Record<string, string> = {};
  let base64 = false;
  const first = parts[0] ?? '';
  if (first !== '') {
    const slash = first.indexOf('/');
    const type = first.slice(0, slash);
    const sub = first.slice(slash + 1);
    if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(sub)) throw new DataUrlError(`invalid media type "${first}"`);
    if (!KNOWN_TYPE.test(type)) throw new DataUrlError(`invalid media type "${type}"`);
    mediaType = `${type}/${sub}`.toLowerCase();
  } else {
    params.charset = 'US-ASCII';
  }
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && !part.includes('=')) {
      if (part !== 'base64') throw new DataUrlError(`expected base64, got "${part}"`);
      base64 = true;
      continue;
    }
    const eq = part.indexOf('=');
    if (eq <= 0) throw new DataUrlError(`unterminated parameter "${part}"`);
    const attr = part.slice(0, eq);
    if (!TOKEN.test(attr)) throw new DataUrlError(`invalid parameter name "${attr}"`);
    params[attr] = paramValue(part.slice(eq + 1));
  }

  if (base64) {
    if (!BASE64_DATA.test(body) || !isStdBase64(body)) throw new DataUrlError('invalid base64 data');
    return { mediaType, params, base64, data: Buffer.from(body, 'base64') };
  }
  if (!URL_DATA.test(body)) throw new DataUrlError('invalid data character (escape it as %XX)');
  return { mediaType, params, base64, data: percentDecode(body) };
}

/**
 * Decodes the content of an Ignition file source. `compression` is the file's
 * `contents.compression` (Ignition 3.1+ and 2.x: "gzip", or empty for none). Inflating stops at `maxBytes`
 * (zlib's maxOutputLength): more throws DataUrlTooLarge, never a larger buffer.
 */
export function decodeDataUrl(source: string, compression?: string | null, maxBytes = MAX_INFLATED_BYTES): Buffer {
  const { data } = parseDataUrl(source);
  if (compression === undefined || compression === null || compression === '') return data;
  if (compression !== 'gzip')
    throw new DataUrlError(`unsupported compression "${compression}" (Ignition knows only gzip)`);
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DataUrlTooLarge(maxBytes);
    throw new DataUrlError(`gzip data does not decompress: ${(err as Error).message}`);
  }
}

// Splits on ';' outside quoted parameter values.
function splitHeader(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!;
    if (quoted && c === '\\' && i + 1 < header.length) {
      current += c + header[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (quoted) throw new DataUrlError('unclosed quoted string in media type parameters');
  parts.push(current);
  return parts;
}

function paramValue(raw: string): string {
  if (raw.startsWith('"')) {
    if (!raw.endsWith('"') || raw.length < 2) throw new DataUrlError(`unclosed quoted string ${raw}`);
    return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  if (!TOKEN.test(raw)) throw new DataUrlError(`invalid parameter value "${raw}"`);
  return percentDecode(raw).toString('latin1');
}

// rfc2396.go Unescape: every '%' must start two hex digits; '+' stays '+'.
function percentDecode(s: string): Buffer {
  // Without an escape the bytes are the characters: URL_DATA and TOKEN admit ASCII only. (Buffer.alloc per
  // source, zero-filled and outside the pool, was a tenth of a MachineConfig review.)
  if (!s.includes('%')) return Buffer.from(s, 'latin1');
  const out = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw new DataUrlError(`invalid escape "%${s.slice(i + 1, i + 3)}"`);
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** The value of a hexadecimal digit's character code (NaN past the end of the text), or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}
