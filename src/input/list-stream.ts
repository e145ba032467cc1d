/**
 * Splits a `kind: List` document into its items as the text arrives, so that a dump of hundreds of MB (what
 * `oc get nodes,machineconfigs -o yaml` or `-o json` prints for a large cluster) is parsed one object at a time
 * and never held as one syntax tree. Used by the offline loader (files) and the informers (list pages).
 */
import { elideLongStrings, type ElidedStrings } from './elided-strings.js';

/** Where the pieces of a document go: each element of the top-level `items`, and every other top-level field. */
export interface ListSink {
  /**
   * One element of `items`, as text; `line` is the 1-based line it starts on. With `elideItems`, `elided` holds
   * the long string values left out of `text` (parseElided puts them back).
   */
  item(text: string, line: number, elided?: ElidedStrings): void;
  /** Any other top-level field (apiVersion, kind, metadata...), or the whole document when it is not a mapping. */
  field(key: string | undefined, text: string, line: number): void;
}

/** The largest single object (or non-List document) read into memory at once. */
export const MAX_OBJECT_BYTES = 64 * 2 ** 20;

export class ObjectTooLargeError extends Error {
  constructor(readonly line: number) {
    super(
      `an object larger than ${MAX_OBJECT_BYTES / 2 ** 20} MiB: split the file, or dump the objects as a List (oc get -o yaml/json)`,
    );
  }
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09;
}

type Capture = {
  kind: 'struct' | 'string' | 'scalar';
  depth: number;
  start: number;
  parts: string[];
  bytes: number;
  line: number;
  key: boolean;
};

/**
 * JSON: one pass over the characters, tracking strings and nesting; the value of a top-level field, or an element
 * of the top-level `items` array, is sliced out and handed over whole. Syntax errors are left to JSON.parse of
 * each piece (a document cut short leaves a piece unfinished: `end` reports it).
 */
export class JsonListSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private expect: 'key' | 'value' | 'item' | undefined;
  private key?: string;
  private inItems = false;
  private capture?: Capture;
  private started = false;

  constructor(
    private readonly sink: ListSink,
    /** Items that span chunks are handed over with their long string values left out (elided-strings.ts). */
    private readonly elideItems = false,
  ) {}

  push(chunk: string): void {
    const n = chunk.length;
    let backslash = -1;
    for (let i = 0; i < n; i++) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        // Strings are most of the text (data URLs): jump to the next quote or backslash. JSON strings hold no
        // raw newlines, so the line count stays right.
        const quote = chunk.indexOf('"', i);
        if (backslash < i && backslash !== n) backslash = chunk.indexOf('\\', i);
        if (backslash === -1) backslash = n;
        if (quote === -1 && backslash === n) break;
        if (backslash < (quote === -1 ? n : quote)) {
          i = backslash;
          this.escaped = true;
          continue;
        }
        i = quote;
        this.inString = false;
        const cap = this.capture;
        if (cap && cap.kind === 'string' && this.depth === cap.depth) this.finish(chunk, i + 1);
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === NEWLINE) this.line++;
      if (isSpace(c)) continue;
      if (!this.started) {
        this.started = true;
        // Not an object: the whole document is one piece.
        if (c !== OPEN_OBJECT) this.begin(i, c === QUOTE ? 'string' : c === OPEN_ARRAY ? 'struct' : 'scalar', false);
        else {
          this.depth = 1;
          this.expect = 'key';
          continue;
        }
      }
      const cap = this.capture;
      if (
        cap?.kind === 'scalar' &&
        this.depth === cap.depth &&
        (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY)
      )
        this.finish(chunk, i);
      if (this.expect === 'value' || this.expect === 'item' || (this.expect === 'key' && c === QUOTE)) {
        if (this.expect === 'item' && c === CLOSE_ARRAY) {
          // An empty list, or a trailing comma JSON.parse would refuse anyway.
        } else if (this.expect === 'value' && this.key === 'items' && c === OPEN_ARRAY && this.depth === 1) {
          this.inItems = true;
          this.depth = 2;
          this.expect = 'item';
          continue;
        } else {
          this.begin(
            i,
            c === QUOTE ? 'string' : c === OPEN_OBJECT || c === OPEN_ARRAY ? 'struct' : 'scalar',
            this.expect === 'key',
          );
        }
        this.expect = undefined;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.depth--;
        if (this.capture?.kind === 'struct' && this.depth === this.capture.depth) this.finish(chunk, i + 1);
        if (this.inItems && this.depth === 1 && c === CLOSE_ARRAY) this.inItems = false;
      } else if (c === COMMA) {
        if (this.depth === 1) this.expect = 'key';
        else if (this.depth === 2 && this.inItems) this.expect = 'item';
      } else if (c === COLON && this.depth === 1 && !this.capture) this.expect = 'value';
    }
    const cap = this.capture;
    if (cap) {
      const rest = chunk.slice(cap.start);
      cap.parts.push(rest);
      cap.bytes += rest.length;
      cap.start = 0;
      if (cap.bytes > MAX_OBJECT_BYTES) throw new ObjectTooLargeError(cap.line);
    }
  }

  /** The end of the input: a scalar document ends here; anything else unfinished is a document cut short. */
  end(): void {
    if (this.capture?.kind === 'scalar' && this.capture.depth === 0) this.finish('', 0);
    if (this.capture || this.inString || this.depth > 0)
      throw new SyntaxError(`unexpected end of JSON input (line ${this.line})`);
  }

  private begin(i: number, kind: Capture['kind'], key: boolean): void {
    this.capture = { kind, depth: this.depth, start: i, parts: [], bytes: 0, line: this.line, key };
  }

  private finish(chunk: string, end: number): void {
    const cap = this.capture!;
    this.capture = undefined;
    if (this.elideItems && cap.depth === 2 && cap.parts.length > 0) {
      const { text, elided } = elideLongStrings([...cap.parts, chunk.slice(cap.start, end)]);
      return this.sink.item(text, cap.line, elided);
    }
    const text =
      cap.parts.length === 0 ? chunk.slice(cap.start, end) : cap.parts.join('') + chunk.slice(cap.start, end);
    if (cap.key) {
      this.key = JSON.parse(text) as string;
      return;
    }
    if (cap.depth === 2) this.sink.item(text, cap.line);
    else this.sink.field(cap.depth === 0 ? undefined : this.key, text, cap.line);
  }
}

/**
 * Lines of a text that arrives in chunks, each handed over in the pieces it came in, in time linear in its length
 * (the caller joins them, or reads them as they are). `tooLong` is called, and must throw, when the line not yet
 * ended passes `maxChars`.
 */
export class ChunkedLines {
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(
    private readonly maxChars: number,
    private readonly tooLong: () => never,
  ) {}

  push(chunk: string, line: (parts: string[]) => void): void {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      const parts = this.pending;
      parts.push(chunk.slice(start, end));
      this.pending = [];
      this.pendingChars = 0;
      start = end + 1;
      line(parts);
    }
    if (start < chunk.length) {
      this.pending.push(start === 0 ? chunk : chunk.slice(start));
      this.pendingChars += chunk.length - start;
      if (this.pendingChars > this.maxChars) this.tooLong();
    }
  }

  /** What came after the last line end: the last line when the text does not end with one. */
  rest(): string[] {
    return this.pending;
  }
}

/**
 * YAML, line by line, for block-style documents as kubectl and oc print them: in a document whose top-level
 * `items:` is a block sequence, each `- ` entry at the sequence's indentation starts an item, and every line
 * indented deeper (or blank) belongs to it. Other top-level lines are kept and handed over per document.
 * `keep(kind)` names the top-level fields of an item of that kind worth parsing (kind and apiVersion come
 * first, as kubectl sorts them): the rest (a Node's status, 10 of its 14 KB) is dropped before the YAML parser
 * sees it; an item of a kind it returns undefined for is dropped whole.
 */
export class YamlListSplitter {
  private header: string[] = [];
  private headerLine = 1;
  private headerBytes = 0;
  /** Indentation of the `- ` of items; undefined outside `items:`; -1 right after `items:`. */
  private itemIndent?: number;
  private item?: {
    lines: string[];
    line: number;
    bytes: number;
    fields?: ReadonlySet<string>;
    skipping: boolean;
    dropped: boolean;
  };
  private line = 0;

  constructor(
    private readonly sink: ListSink,
    private readonly keep: (kind: string) => ReadonlySet<string> | undefined,
  ) {}

  pushLine(text: string): void {
    this.line++;
    if (/^(---|\.\.\.)(\s|$)/.test(text)) {
      this.endDocument();
      this.headerLine = this.line + 1;
      const rest = text.slice(3).trim();
      if (text.startsWith('---') && rest !== '' && !rest.startsWith('#')) this.addHeader(rest);
      return;
    }
    const blank = /^\s*(#.*)?$/.test(text);
    const indent = text.length - text.trimStart().length;
    if (this.itemIndent === -1 && !blank) {
      const m = /^( *)-( |$)/.exec(text);
      this.itemIndent = m ? m[1]!.length : undefined;
    }
    const k = this.itemIndent;
    if (k !== undefined && k >= 0) {
      if (blank || indent > k) return this.addToItem(text, indent);
      if (indent === k && /^ *-( |$)/.test(text)) {
        this.flushItem();
        this.item = { lines: [], line: this.line, bytes: 0, skipping: false, dropped: false };
        return this.addToItem(`${' '.repeat(k + 2)}${text.slice(k + 2)}`, k + 2);
      }
      this.flushItem();
      this.itemIndent = undefined;
    }
    if (this.itemIndent === -1) return; // blank lines between `items:` and its first entry
    if (/^items:\s*(#.*)?$/.test(text)) {
      this.itemIndent = -1;
      return;
    }
    this.addHeader(text);
  }

  end(): void {
    this.endDocument();
  }

  private addHeader(text: string): void {
    if (this.header.length === 0 && /^\s*(#.*)?$/.test(text)) {
      this.headerLine = this.line + 1;
      return;
    }
    this.header.push(text);
    this.headerBytes += text.length + 1;
    if (this.headerBytes > MAX_OBJECT_BYTES) throw new ObjectTooLargeError(this.headerLine);
  }

  private addToItem(text: string, indent: number): void {
    const item = this.item;
    if (!item || item.dropped) return;
    const base = this.itemIndent! + 2;
    if (indent === base && !/^\s*(#.*)?$/.test(text)) {
      // A top-level field of the item: kind decides which of the following ones are kept.
      const m = /^ *([A-Za-z]+):\s*(.*)$/.exec(text);
      const key = m?.[1];
      if (key === 'kind') {
        item.fields = this.keep(m![2]!.replace(/^["']|["']$/g, '').trim());
        if (!item.fields) {
          item.dropped = true;
          item.lines = [];
          return;
        }
      }
      item.skipping = key !== undefined && item.fields !== undefined && !item.fields.has(key);
    }
    if (item.skipping) return;
    const line = text.length >= base ? text.slice(base) : text.trimStart();
    item.lines.push(line);
    item.bytes += line.length + 1;
    if (item.bytes > MAX_OBJECT_BYTES) throw new ObjectTooLargeError(item.line);
  }

  private flushItem(): void {
    const item = this.item;
    this.item = undefined;
    if (!item || item.dropped) return;
    this.sink.item(item.lines.join('\n'), item.line);
  }

  private endDocument(): void {
    this.flushItem();
    this.itemIndent = undefined;
    if (this.header.length > 0) this.sink.field(undefined, this.header.join('\n'), this.headerLine);
    this.header = [];
    this.headerBytes = 0;
  }
}
