import { randomUUID } from 'node:crypto';

/**
 * Long JSON string values left out of an object's text before JSON.parse, and put back wherever they are read.
 *
 * A rendered MachineConfig is 500 KB of JSON, nearly all of it file contents that sctp-guard never reads (CA
 * bundles, kubelet and CRI-O files). Parsing it whole builds the text as one string and each large file as
 * another, and V8 puts every string over 128 KiB (kMaxRegularHeapObjectSize) in large-object space, on freshly
 * mapped pages: on this project's 2-core VMs the page faults were 3.2 of the 3.5 ms a watch event took. Read in
 * the chunks it arrives in, with its long values left out, the same object costs 0.1-0.2 ms.
 */

/** String values at least this long (in characters, quotes included) are left out while the text is read. */
export const ELIDE_MIN_CHARS = 1024;

export type JsonPath = ReadonlyArray<string | number>;

/**
 * Whether the string value at `path` of `object` may stay left out, because whoever reads the object never looks
 * at it. `read` gives any value of the object as it was sent (a string still left out, put back).
 */
export type UnreadStrings = (object: unknown, path: JsonPath, read: (value: unknown) => unknown) => boolean;

/** The values left out of one text: each stands there as a string no JSON text can hold by chance. */
export class ElidedStrings {
  /** NUL and a random UUID: a value that is this marker and an index was put there by this reader. */
  private readonly marker = `\u0000elided:${randomUUID()}:`;
  private readonly tokens: string[][] = [];

  constructor(
    /** The whole text, in the pieces it came in: what JSON.parse reports a syntax error against. */
    readonly parts: readonly string[],
  ) {}

  /** Keeps a string token (quotes included, in pieces) and returns the JSON token that stands for it. */
  add(pieces: string[]): string {
    this.tokens.push(pieces);
    return JSON.stringify(`${this.marker}${this.tokens.length - 1}`);
  }

  get size(): number {
    return this.tokens.length;
  }

  private isElided(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(this.marker);
  }

  /** The value as it was sent: a string left out, put back; anything else as it is. */
  readonly read = (value: unknown): unknown =>
    this.isElided(value)
      ? (JSON.parse(this.tokens[Number(value.slice(this.marker.length))]!.join('')) as string)
      : value;

  /**
   * Puts every value left out of `root` back, in place, except those `unread` says are never read. Walks with a
   * stack of its own: the depth of a parsed value is whatever the text nested.
   */
  restore(root: unknown, unread?: UnreadStrings): unknown {
    const stack: Array<{ value: unknown; path: JsonPath }> = [{ value: root, path: [] }];
    while (stack.length > 0) {
      const { value, path } = stack.pop()!;
      if (value === null || typeof value !== 'object') continue;
      const entries: Array<[string | number, unknown]> = Array.isArray(value)
        ? value.map((v, i) => [i, v])
        : Object.entries(value);
      for (const [key, child] of entries) {
        if (typeof child === 'object') stack.push({ value: child, path: [...path, key] });
        else if (this.isElided(child) && !unread?.(root, [...path, key], this.read))
          (value as Record<string | number, unknown>)[key] = this.read(child);
      }
    }
    return root;
  }
}

const QUOTE = 0x22;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The text of `parts` with every member value string of at least `minChars` characters left out (a string after a
 * `:`; keys and array elements stay). Strings are found by jumping from quote to quote, as JSON allows nothing
 * else to hold one; a text that ends inside a string is returned whole, for JSON.parse to report. `elided` is
 * undefined when nothing was left out.
 */
export function elideLongStrings(
  parts: readonly string[],
  minChars = ELIDE_MIN_CHARS,
): { text: string; elided?: ElidedStrings } {
  const elided = new ElidedStrings(parts);
  const out: string[] = [];
  /** Where the text not yet copied to `out` begins. */
  let fromPart = 0;
  let fromIndex = 0;
  /** The last character outside strings that is not white space. */
  let before = 0;
  /** Inside a string: the part and index of its opening quote (-1 outside), and whether it is a member value. */
  let openPart = -1;
  let openIndex = 0;
  let openValue = false;
  /** A backslash ended the last part, inside a string: the next part's first character is escaped. */
  let escaped = false;
  /** The text from (part, index) to (part, index), in slices of the parts. */
  const slices = (p0: number, i0: number, p1: number, i1: number, into: string[]) => {
    for (let p = p0; p <= p1; p++) {
      const from = p === p0 ? i0 : 0;
      const to = p === p1 ? i1 : parts[p]!.length;
      if (to > from) into.push(from === 0 && to === parts[p]!.length ? parts[p]! : parts[p]!.slice(from, to));
    }
  };
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    let i = 0;
    if (escaped) {
      escaped = false;
      i = 1;
    }
    // The next quote and backslash at or after i, each searched again only once passed: neither a string of many
    // escapes nor a part of many strings is scanned to its end more than once.
    let quote = -2;
    let backslash = -2;
    while (i < part.length) {
      if (openPart === -1) {
        const opening = part.indexOf('"', i);
        const end = opening === -1 ? part.length : opening;
        for (let j = end - 1; j >= i; j--) {
          const c = part.charCodeAt(j);
          if (!isSpace(c)) {
            before = c;
            break;
          }
        }
        if (opening === -1) break;
        openPart = p;
        openIndex = opening;
        openValue = before === COLON;
        before = QUOTE;
        i = opening + 1;
        continue;
      }
      if (quote !== -1 && quote < i) quote = part.indexOf('"', i);
      if (backslash !== -1 && backslash < i) backslash = part.indexOf('\\', i);
      if (backslash !== -1 && (quote === -1 || backslash < quote)) {
        if (backslash === part.length - 1) escaped = true;
        i = backslash + 2;
        continue;
      }
      if (quote === -1) break;
      // The string runs from parts[openPart][openIndex] to part[quote], quotes included.
      let length = quote + 1 - openIndex;
      for (let q = openPart; q < p; q++) length += parts[q]!.length;
      if (openValue && length >= minChars) {
        slices(fromPart, fromIndex, openPart, openIndex, out);
        const token: string[] = [];
        slices(openPart, openIndex, p, quote + 1, token);
        out.push(elided.add(token));
        fromPart = p;
        fromIndex = quote + 1;
      }
      openPart = -1;
      i = quote + 1;
    }
  }
  if (openPart !== -1 || elided.size === 0) return { text: parts.join('') };
  slices(fromPart, fromIndex, parts.length - 1, parts[parts.length - 1]!.length, out);
  return { text: out.join(''), elided };
}

/**
 * JSON.parse of a text read by elideLongStrings, with what it left out put back except where `unread` allows.
 * A syntax error is reported against the whole text, as if nothing had been left out.
 */
export function parseElided(text: string, elided: ElidedStrings | undefined, unread?: UnreadStrings): unknown {
  if (!elided) return JSON.parse(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return JSON.parse(elided.parts.join(''));
  }
  return elided.restore(value, unread);
}
