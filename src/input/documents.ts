import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { decodeText, TextStreamDecoder } from './decode.js';
import {
  ChunkedLines,
  JsonListSplitter,
  MAX_OBJECT_BYTES,
  ObjectTooLargeError,
  YamlListSplitter,
  type ListSink,
} from './list-stream.js';
import type { FileLineError, ParsedDocument } from './yaml.js';
import { parseYamlDocumentsAs } from './yaml.js';
import { isRecord } from '../util/json.js';

/** The error class of one kind of input file (`file:line: reason`). */
export type FileErrorClass = new (file: string, line: number, reason: string) => FileLineError;

/** Takes one object of a file: `lineOf(pointer + field)` is the line of a field of it. */
export type TakeObject = (value: unknown, lineOf: (pointer: string) => number, pointer: string) => void;

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const CHUNK_BYTES = 1 << 20;
/** Above this, a file is streamed item by item (and YAML anchors cannot reach from one item into another). */
const WHOLE_FILE_BYTES = 16 * 2 ** 20;

/** Every *.yaml, *.yml and *.json file under `dir` (recursively), in name order. */
export function yamlFilesUnder(dir: string, as: FileErrorClass): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new as(dir, 0, 'not a directory');
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (err) {
    if (err instanceof as) throw err;
    throw new as(dir, 0, `cannot read cluster state directory: ${(err as Error).message}`);
  }
  return entries
    .filter((e) => EXTENSIONS.has(extname(e).toLowerCase()))
    .sort()
    .map((e) => join(dir, e))
    .filter((f) => statSync(f).isFile() && relative(dir, f) !== '');
}

/**
 * Every object of a YAML or JSON file (multi-document streams, `List` kinds expanded into their items) handed to
 * `take` one at a time. Files of more than 16 MiB, and JSON of any size, are read as a stream and each item of a
 * List is parsed on its own, so a dump of a 10,000-node cluster never sits in memory as one tree; `keep(kind)`
 * names the top-level fields of an item of that kind worth parsing (undefined: the item is dropped unparsed).
 */
export function readObjects(
  file: string,
  as: FileErrorClass,
  keep: (kind: string) => ReadonlySet<string> | undefined,
  take: TakeObject,
): void {
  // One parsed piece of the file: `line` is where it starts, so that its errors name lines of the file.
  const parseYaml = (text: string, line: number): ParsedDocument[] => {
    try {
      return parseYamlDocumentsAs(text, file, as).map((d) => ({
        ...d,
        line: d.line + line - 1,
        lineOf: (p: string) => d.lineOf(p) + line - 1,
      }));
    } catch (err) {
      if (err instanceof as) throw new as(file, err.line + line - 1, err.reason);
      throw err;
    }
  };
  const parse = (text: string, line: number): ParsedDocument[] => {
    const json = parseJson(text);
    if (json === NOT_JSON) return parseYaml(text, line);
    // Line numbers are only needed for an error: the YAML parser finds them then.
    let docs: ParsedDocument[] | undefined;
    return [{ value: json, line, lineOf: (p) => (docs ??= parseYaml(text, line))[0]?.lineOf(p) ?? line }];
  };
  // JSON has no anchors to reach across items, so a JSON file of any size is streamed item by item.
  if (statSync(file).size <= WHOLE_FILE_BYTES && !startsAsJson(file, as)) {
    // Small files are parsed whole: YAML anchors may then reach across the items of a List.
    let text: string;
    try {
      text = decodeText(readWhole(file));
    } catch (err) {
      throw new as(file, 0, `cannot read: ${(err as Error).message}`);
    }
    for (const doc of parseYamlDocumentsAs(text, file, as)) {
      if (isRecord(doc.value) && Array.isArray(doc.value.items) && String(doc.value.kind ?? '').endsWith('List')) {
        doc.value.items.forEach((item, i) => take(item, doc.lineOf, `/items/${i}`));
      } else take(doc.value, doc.lineOf, '');
    }
    return;
  }
  const fields: Record<string, unknown> = {};
  let items = 0;
  let fieldLine = 1;
  const sink: ListSink = {
    item: (text, line) => {
      items++;
      for (const doc of parse(text, line)) take(doc.value, doc.lineOf, '');
    },
    field: (key, text, line) => {
      if (key !== undefined) {
        // JSON: one top-level field of the document.
        fields[key] = parse(text, line)[0]?.value;
        return;
      }
      // YAML: the document without its items (all of it when it is not a List).
      const docs = parse(text, line);
      if (items > 0 && docs.length === 1 && isRecord(docs[0]!.value)) return void (items = 0);
      for (const doc of docs) take(doc.value, doc.lineOf, '');
      items = 0;
      fieldLine = line;
    },
  };
  readStreaming(file, as, sink, keep);
  // A JSON document that is not a List: its fields are the object.
  if (Object.keys(fields).length > 0 && items === 0) take(fields, () => fieldLine, '');
}

function readWhole(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (let n; (n = readSync(fd, buffer, 0, CHUNK_BYTES, null)) > 0;) chunks.push(Buffer.from(buffer.subarray(0, n)));
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

const NOT_JSON = Symbol('not JSON');

/**
 * JSON text (`oc get -o json`, one item of a List) through JSON.parse: the YAML parser, of which JSON is a subset,
 * is many times slower and builds a whole syntax tree. What JSON.parse refuses goes to the YAML parser as before,
 * which accepts it or names the line of the error.
 */
function parseJson(text: string): unknown {
  const start = /\S/.exec(text.length > 4096 ? text.slice(0, 4096) : text);
  if (!start || (text[start.index] !== '{' && text[start.index] !== '[')) return NOT_JSON;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** Whether the file's first non-blank character (after a byte order mark) opens a JSON object or array. */
function startsAsJson(file: string, as: FileErrorClass): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new as(file, 0, `cannot read: ${(err as Error).message}`);
  }
  try {
    const head = Buffer.alloc(4096);
    const text = decodeText(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    const start = /\S/.exec(text);
    return start !== null && (text[start.index] === '{' || text[start.index] === '[');
  } finally {
    closeSync(fd);
  }
}

/**
 * Feeds the file to the list splitter of its format (JSON when it starts with `{` or `[`), a chunk at a time. YAML
 * lines are assembled from the chunks they span in time linear in their length, and a line longer than the largest
 * object ends the read at once.
 */
function readStreaming(
  file: string,
  as: FileErrorClass,
  sink: ListSink,
  keep: (kind: string) => ReadonlySet<string> | undefined,
): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new as(file, 0, `cannot read: ${(err as Error).message}`);
  }
  const decoder = new TextStreamDecoder();
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let json: JsonListSplitter | undefined;
  let yaml: YamlListSplitter | undefined;
  let line = 0;
  // A line whose end has not arrived yet is kept in pieces, joined once when it ends.
  const lines = new ChunkedLines(MAX_OBJECT_BYTES, () => {
    throw new ObjectTooLargeError(line + 1);
  });
  const pushLine = (text: string) => {
    line++;
    yaml!.pushLine(text.endsWith('\r') ? text.slice(0, -1) : text);
  };
  const feed = (text: string) => {
    if (!json && !yaml) {
      const start = /\S/.exec(text);
      if (!start) return;
      if (text[start.index] === '{' || text[start.index] === '[') json = new JsonListSplitter(sink);
      else yaml = new YamlListSplitter(sink, keep);
    }
    if (json) return json.push(text);
    lines.push(text, (parts) => pushLine(parts.join('')));
  };
  try {
    for (let n; (n = readSync(fd, buffer, 0, CHUNK_BYTES, null)) > 0;) feed(decoder.write(buffer.subarray(0, n)));
    feed(decoder.end());
    if (json) {
      try {
        json.end();
      } catch (err) {
        throw new as(file, 0, `malformed JSON: ${(err as Error).message}`);
      }
    } else if (yaml) {
      const rest = lines.rest();
      if (rest.length > 0) pushLine(rest.join(''));
      yaml.end();
    }
  } catch (err) {
    if (err instanceof ObjectTooLargeError) throw new as(file, err.line, err.message);
    if (err instanceof SyntaxError) throw new as(file, line, `malformed JSON: ${err.message}`);
    throw err;
  } finally {
    closeSync(fd);
  }
}
