import {
  isCollection,
  isMap,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type Node,
  type ScalarTag,
  type Tags,
} from 'yaml';
import { pointerTokens } from '../util/json-pointer.js';

/** A YAML document parsed as kubectl reads it (YAML 1.1: `0644` is octal 420), with line lookup. */
export interface ParsedDocument {
  value: unknown;
  /** 1-based line where the document starts. */
  line: number;
  /** 1-based line of the node at a JSON pointer (`/spec/ports/0`), or of the nearest parent that exists. */
  lineOf(pointer: string): number;
}

/** A problem in an input file, as `file:line: reason` (line 0: the file as a whole), for exit code 2. */
export class FileLineError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = new.target.name;
  }
}

export class YamlSyntaxError extends FileLineError {}

/**
 * Every document of a multi-document stream; empty documents (`---` alone) are left out. JSON (what
 * `oc get -o json` dumps) takes JSON.parse, many times faster and lighter than a YAML syntax tree of a large
 * state; its line numbers are worked out from the YAML parse only when an error needs one.
 */
export function parseYamlDocuments(text: string, file: string): ParsedDocument[] {
  if (/^\s*[[{]/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return parseYamlStream(text, file); // not JSON after all: YAML flow style, or an error YAML will locate
    }
    let located: ParsedDocument | undefined;
    const lineOf = (pointer: string) => (located ??= parseYamlStream(text, file)[0]!).lineOf(pointer);
    return value === null ? [] : [{ value, line: 1, lineOf }];
  }
  return parseYamlStream(text, file);
}

/** parseYamlDocuments for one kind of input file: a syntax error comes out as that input's own error class. */
export function parseYamlDocumentsAs(
  text: string,
  file: string,
  as: new (file: string, line: number, reason: string) => FileLineError,
): ParsedDocument[] {
  try {
    return parseYamlDocuments(text, file);
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new as(file, err.line, err.reason);
    throw err;
  }
}

/** A document YAML cannot read as kubectl would: its error, and its text (to tell a template from a mistake). */
export interface BrokenDocument {
  error: YamlSyntaxError;
  /** 1-based line where `text` starts. */
  line: number;
  text: string;
}

function parseYamlStream(text: string, file: string): ParsedDocument[] {
  const out: ParsedDocument[] = [];
  for (const doc of readYamlStream(text, file)) {
    if ('error' in doc) throw doc.error;
    out.push(doc);
  }
  return out;
}

/**
 * Every document of a stream, each read on its own: a document YAML cannot parse is returned with its error and
 * text, and the documents around it are still read (a `---` ends a broken document as it ends any other). Empty
 * documents are left out. JSON is read as YAML here (line numbers); parseYamlDocuments takes JSON's fast path.
 */
export function readYamlStream(text: string, file: string): Array<ParsedDocument | BrokenDocument> {
  const lineCounter = new LineCounter();
  // logLevel error: the library's own warnings ("Keys with collection values will be stringified") never reach the user.
  const docs = parseAllDocuments(text, {
    version: '1.1',
    customTags: asKubectl,
    lineCounter,
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
    logLevel: 'error',
  });
  const list = Array.isArray(docs) ? docs : [];
  const out: Array<ParsedDocument | BrokenDocument> = [];
  for (const [i, doc] of list.entries()) {
    // Up to the next document: the text YAML could not place (a template action) may lie past this one's range.
    const source = text.slice(doc.range[0], list[i + 1]?.range[0] ?? text.length);
    const startLine = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const textLine = lineCounter.linePos(doc.range[0]).line;
    const error = doc.errors[0];
    if (error) {
      out.push({
        error: new YamlSyntaxError(
          file,
          lineCounter.linePos(error.pos[0]).line,
          error.message.split('\n')[0] ?? 'YAML error',
        ),
        line: textLine,
        text: source,
      });
      continue;
    }
    if (doc.contents === null) continue;
    const collectionKey = source.includes('{{') ? collectionKeyLine(doc, lineCounter) : undefined;
    if (collectionKey !== undefined) {
      // What a template action (`name: {{ .Values.name }}`) reads as in YAML; go-yaml decodes it into a map key no JSON can hold.
      out.push({
        error: new YamlSyntaxError(
          file,
          collectionKey,
          'a mapping or sequence used as a key (kubectl cannot read it: keys are strings)',
        ),
        line: textLine,
        text: source,
      });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (value === null || value === undefined) continue;
    out.push({ value, line: startLine, lineOf: (pointer) => lineOfPointer(doc, lineCounter, pointer) ?? startLine });
  }
  return out;
}

function collectionKeyLine(doc: Document, lines: LineCounter): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        found = rangeLine(pair.key, lines);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

const YAML_TAG = 'tag:yaml.org,2002:';
/** YAML 1.1 types go-yaml v2 does not have: its decoder leaves these scalars and collections as strings, maps and sequences. */
const NOT_IN_GO_YAML = new Set(['timestamp', 'set', 'omap', 'pairs', 'binary'].map((t) => YAML_TAG + t));

/**
 * `!!binary` as go-yaml v2 decodes it (sigs.k8s.io/yaml/goyaml.v2 `decode.go`, `(*decoder).scalar`): the base64 text
 * (StdEncoding: padded, line breaks ignored) becomes the string of its bytes, so `protocol: !!binary U0NUUA==` is
 * `SCTP` for kubectl and for the rules; text that is not base64 is an error there and here.
 */
const BINARY_AS_STRING: ScalarTag = {
  tag: `${YAML_TAG}binary`,
  default: false,
  identify: () => false,
  resolve(src, onError) {
    const base64 = src.replace(/[\r\n]/g, '');
    if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
      onError('!!binary value contains invalid base64 data');
      return src;
    }
    return Buffer.from(base64, 'base64').toString('utf8');
  },
};

/**
 * The YAML 1.1 schema as kubectl's library reads it (sigs.k8s.io/yaml converts YAML to JSON through go-yaml v2):
 * octal `0644`, `yes`/`on` booleans and merge keys as YAML 1.1, but no timestamps (`2024-01-01` stays a string,
 * `decode.go` keeps timestamp-like values as strings when decoding into interface{}), no base-60 numbers (`12:30`
 * stays a string: "purposefully not supported", goyaml.v2 README), no `!!set`/`!!omap`/`!!pairs` types (the
 * collection is read as written), and `!!binary` decoded to a string. Unknown tags (`!foo`) keep the value as
 * written, as go-yaml's `resolve` does for a tag it cannot resolve.
 */
function asKubectl(tags: Tags): Tags {
  return [
    ...tags.filter((t) => typeof t === 'string' || (!NOT_IN_GO_YAML.has(t.tag) && t.format !== 'TIME')),
    BINARY_AS_STRING,
  ];
}

function lineOfPointer(doc: Document, lines: LineCounter, pointer: string): number | undefined {
  const keys = pointerTokens(pointer);
  let node: unknown = doc.contents;
  let line: number | undefined = rangeLine(node, lines);
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === key);
      if (!pair) break;
      line = rangeLine(pair.key, lines) ?? line;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(key)];
      if (node === undefined) break;
      line = rangeLine(node, lines) ?? line;
    } else break;
  }
  return line;
}

function rangeLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as Node | null)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}
