import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { getHeapStatistics } from 'node:v8';
import { isRecord } from '../util/json.js';
import { FileLineError, parseYamlDocumentsAs, type ParsedDocument } from '../input/yaml.js';
import { JsonListSplitter, ObjectTooLargeError, YamlListSplitter, type ListSink } from './list-stream.js';
import { FIELDS_READ, isWatchedKind, reduce } from './records.js';
import type { ClusterSnapshot } from './snapshot.js';
import { ClusterState } from './state.js';

/** A cluster-state file that cannot be read: `file:line: reason`, for exit code 2. */
export class ClusterStateError extends FileLineError {}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Offline cluster state: every YAML/JSON file under `dir` (multi-document streams and `List` kinds, e.g. the
 * output of `oc get nodes,machineconfigs,machineconfigpools,clusterversions -o yaml`). Nodes, MachineConfigs,
 * MachineConfigPools and ClusterVersions go through the same reduction as the informers; other kinds are
 * ignored so that a directory of mixed manifests works. Files are read as a stream and each item of a List is
 * parsed and reduced on its own, so a dump of a 10,000-node cluster never sits in memory as one tree.
 */
export function loadClusterState(dir: string): ClusterSnapshot {
  const state = new ClusterState();
  const { machineConfigsAvailable } = loadClusterStateInto(state, dir);
  return Object.freeze({ ...state.build('offline', machineConfigsAvailable), ageSeconds: 0, stale: false });
}

/** Loads the files into `state`; MachineConfig data counts as available when any file had a MachineConfig(Pool). */
function loadClusterStateInto(state: ClusterState, dir: string): { machineConfigsAvailable: boolean } {
  let sawMachineConfigs = false;
  let loaded = 0;
  for (const file of listFiles(dir)) {
    const take = (value: unknown, lineOf: (pointer: string) => number, pointer: string) => {
      if (!isRecord(value)) throw new ClusterStateError(file, lineOf(pointer), 'expected a Kubernetes object (a mapping with kind and metadata)');
      if (!isWatchedKind(value.kind)) return;
      const name = isRecord(value.metadata) ? value.metadata.name : undefined;
      if (typeof name !== 'string' || name === '') throw new ClusterStateError(file, lineOf(`${pointer}/metadata`), `${value.kind} without metadata.name`);
      if (value.kind === 'MachineConfig' || value.kind === 'MachineConfigPool') sawMachineConfigs = true;
      state.upsert(value.kind, reduce(value.kind, value));
      if (++loaded % 1000 === 0) checkHeap(file, lineOf(pointer), loaded);
    };
    // One parsed piece of the file: `line` is where it starts, so that its errors name lines of the file.
    const parseYaml = (text: string, line: number): ParsedDocument[] => {
      try {
        return parseYamlDocumentsAs(text, file, ClusterStateError).map((d) => ({ ...d, line: d.line + line - 1, lineOf: (p: string) => d.lineOf(p) + line - 1 }));
      } catch (err) {
        if (err instanceof ClusterStateError) throw new ClusterStateError(file, err.line + line - 1, err.reason);
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
    if (statSync(file).size <= WHOLE_FILE_BYTES && !startsAsJson(file)) {
      // Small files are parsed whole: YAML anchors may then reach across the items of a List.
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new ClusterStateError(file, 0, `cannot read: ${(err as Error).message}`);
      }
      for (const doc of parseYamlDocumentsAs(text, file, ClusterStateError)) {
        if (isRecord(doc.value) && Array.isArray(doc.value.items) && String(doc.value.kind ?? '').endsWith('List')) {
          doc.value.items.forEach((item, i) => take(item, doc.lineOf, `/items/${i}`));
        } else take(doc.value, doc.lineOf, '');
      }
      continue;
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
    readStreaming(file, sink);
    // A JSON document that is not a List: its fields are the object.
    if (Object.keys(fields).length > 0 && items === 0) take(fields, () => fieldLine, '');
  }
  return { machineConfigsAvailable: sawMachineConfigs };
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

/** Whether the file's first non-blank character opens a JSON object or array (what readStreaming checks too). */
function startsAsJson(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ClusterStateError(file, 0, `cannot read: ${(err as Error).message}`);
  }
  try {
    const head = Buffer.alloc(4096);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8');
    const start = /\S/.exec(text);
    return start !== null && (text[start.index] === '{' || text[start.index] === '[');
  } finally {
    closeSync(fd);
  }
}

const CHUNK_BYTES = 1 << 20;
/** Above this, a file is streamed item by item (and YAML anchors cannot reach from one item into another). */
const WHOLE_FILE_BYTES = 16 * 2 ** 20;

/** Feeds the file to the list splitter of its format (JSON when it starts with `{` or `[`), a chunk at a time. */
function readStreaming(file: string, sink: ListSink): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ClusterStateError(file, 0, `cannot read: ${(err as Error).message}`);
  }
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let json: JsonListSplitter | undefined;
  let yaml: YamlListSplitter | undefined;
  let pending = '';
  let line = 0;
  const feed = (text: string) => {
    if (!json && !yaml) {
      const start = /\S/.exec(text);
      if (!start) return;
      if (text[start.index] === '{' || text[start.index] === '[') json = new JsonListSplitter(sink);
      else yaml = new YamlListSplitter(sink, (kind) => (isWatchedKind(kind) ? FIELDS_READ[kind] : undefined));
    }
    if (json) return json.push(text);
    const lines = (pending + text).split('\n');
    pending = lines.pop()!;
    for (const l of lines) {
      line++;
      yaml!.pushLine(l.endsWith('\r') ? l.slice(0, -1) : l);
    }
  };
  try {
    for (let n; (n = readSync(fd, buffer, 0, CHUNK_BYTES, null)) > 0; ) feed(decoder.write(buffer.subarray(0, n)));
    feed(decoder.end());
    if (json) {
      try {
        json.end();
      } catch (err) {
        throw new ClusterStateError(file, 0, `malformed JSON: ${(err as Error).message}`);
      }
    } else if (yaml) {
      if (pending !== '') yaml.pushLine(pending);
      yaml.end();
    }
  } catch (err) {
    if (err instanceof ObjectTooLargeError) throw new ClusterStateError(file, err.line, err.message);
    if (err instanceof SyntaxError) throw new ClusterStateError(file, line, `malformed JSON: ${err.message}`);
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** Ends the load with an error, not a heap crash, when the state would not fit in this process's heap. */
function checkHeap(file: string, line: number, loaded: number): void {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  if (used > limit * 0.8) {
    throw new ClusterStateError(file, line, `cluster state too large: ${loaded} objects use ${Math.round(used / 2 ** 20)} MiB of this process's ${Math.round(limit / 2 ** 20)} MiB heap; load fewer objects (e.g. only nodes, machineconfigs, machineconfigpools, clusterversions) or raise --max-old-space-size`);
  }
}

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ClusterStateError(dir, 0, 'not a directory');
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (err) {
    if (err instanceof ClusterStateError) throw err;
    throw new ClusterStateError(dir, 0, `cannot read cluster state directory: ${(err as Error).message}`);
  }
  return entries
    .filter((e) => EXTENSIONS.has(extname(e).toLowerCase()))
    .sort()
    .map((e) => join(dir, e))
    .filter((f) => statSync(f).isFile() && relative(dir, f) !== '');
}
