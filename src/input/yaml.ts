import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
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
export function parseYamlDocumentsAs(text: string, file: string, as: new (file: string, line: number, reason: string) => FileLineError): ParsedDocument[] {
  try {
    return parseYamlDocuments(text, file);
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new as(file, err.line, err.reason);
    throw err;
  }
}

function parseYamlStream(text: string, file: string): ParsedDocument[] {
  const lineCounter = new LineCounter();
  // logLevel error: the library's own warnings ("Keys with collection values will be stringified") never reach the user.
  const docs = parseAllDocuments(text, { version: '1.1', lineCounter, merge: true, uniqueKeys: false, prettyErrors: false, logLevel: 'error' });
  const list = Array.isArray(docs) ? docs : [];
  const out: ParsedDocument[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new YamlSyntaxError(file, lineCounter.linePos(error.pos[0]).line, error.message.split('\n')[0] ?? 'YAML error');
    if (doc.contents === null) continue;
    const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (value === null || value === undefined) continue;
    const startLine = lineCounter.linePos(doc.contents.range?.[0] ?? 0).line;
    out.push({ value, line: startLine, lineOf: (pointer) => lineOfPointer(doc, lineCounter, pointer) ?? startLine });
  }
  return out;
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
