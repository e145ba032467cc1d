import { resolve } from 'node:path';
import {
  chartDirOf,
  fileRole,
  isKustomization,
  kustomizeInputs,
  notAnObject,
  TEMPLATE_ACTION,
  TreeRoles,
  type NotAnObject,
} from './classify.js';
import { decodeText } from './decode.js';
import { discoverInputs, STDIN_NAME, STDIN_PATH } from './files.js';
import { collectObjects, type ObjectsOut, type SourcedObject } from './objects.js';
import type { InputProblem, Skip } from './problems.js';
import { DEFAULT_MAX_FILE_BYTES, ReadError, readFileBytes, readStreamBytes } from './read.js';
import {
  parseYamlDocuments,
  readYamlStream,
  YamlSyntaxError,
  type BrokenDocument,
  type ParsedDocument,
} from './yaml.js';

export interface Manifests {
  objects: SourcedObject[];
  /** Input that could not be read, or a Kubernetes object that is malformed: exit 2. */
  problems: InputProblem[];
  /** Files and documents skipped (Helm charts, kustomize files and patches, CI files, empty files, templates): one line each, counted. */
  notices: Skip[];
  /** Said once, never an error: an `--exclude` that matched nothing. */
  warnings: string[];
  /** Every file read, in order (folders expanded). */
  files: string[];
}

export interface ReadOptions {
  /** Globs of paths to leave out (`charts/**`, `*.tmpl.yaml`, `./ztp/**`): see discoverInputs. */
  exclude?: readonly string[];
  /** What `-` reads: process.stdin unless given. */
  stdin?: string | AsyncIterable<Buffer | string>;
  /** The largest file (and stdin) read; DEFAULT_MAX_FILE_BYTES unless given. */
  maxFileBytes?: number;
  /** Skips that may hide objects (templates YAML cannot read, unreadable files) are notices, not problems (`--allow-skipped`). */
  allowSkipped?: boolean;
}

/**
 * Reads files, folders and stdin the way kubectl does: bytes decoded by their byte order mark, every document of a
 * multi-document stream, List kinds expanded, YAML 1.1 scalars (`0644` is 420) and tags as kubectl's YAML library
 * reads them. What a repository holds next to its manifests (kustomize files and the patches they name, Helm
 * charts, CI pipelines, installer configs, templates) is skipped with one notice each. Problems are collected,
 * never thrown, so that one bad file does not hide the findings of the others.
 */
export async function readManifests(paths: readonly string[], options: ReadOptions = {}): Promise<Manifests> {
  const found = discoverInputs(paths, options.exclude);
  const out: Manifests = {
    objects: [],
    problems: [],
    notices: [],
    warnings: found.unusedExcludes.map(
      (g) =>
        `--exclude '${g}' matched nothing (a glob with / is matched against each path as given and relative to each folder given, e.g. './ztp/**')`,
    ),
    files: [],
  };
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const kustomized = kustomizeInputsOf(
    found.inputs.flatMap((i) => ('path' in i ? [i.path] : [])),
    maxBytes,
  );
  const trees = new TreeRoles();
  for (const input of found.inputs) {
    if ('problem' in input) {
      out.problems.push(input.problem);
      continue;
    }
    if ('skipped' in input) {
      out.notices.push(input.skipped);
      continue;
    }
    const file = input.stdin ? STDIN_NAME : input.path;
    out.files.push(file);
    const role = input.stdin ? undefined : kustomized.get(resolve(input.path));
    if (role) {
      out.notices.push({
        file,
        line: 0,
        message: `skipped: a kustomize input (${role}), not an object on its own; the render checks it (kubectl kustomize DIR | sctp-guard check)`,
        class: 'kustomize patch',
      });
      continue;
    }
    const tree = input.stdin ? undefined : trees.roleOf(input.path, input.root);
    if (tree) {
      out.notices.push({ file, line: 0, message: `skipped: ${tree.reason}`, class: tree.class });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = input.stdin ? await readStdin(options.stdin, maxBytes) : readFileBytes(input.path, maxBytes);
    } catch (err) {
      if (!(err instanceof ReadError)) throw err;
      out.notices.push({ file, line: 0, message: err.message, class: 'unreadable', mayHideObjects: true });
      continue;
    }
    parseManifestText(out, decodeText(bytes), file);
  }
  // A skip that may hide objects is an input error unless the user said it is expected: exit 0 means everything was checked.
  if (!options.allowSkipped) {
    for (const n of out.notices) {
      if (n.mayHideObjects)
        out.problems.push({
          file: n.file,
          line: n.line,
          message: `${n.message} (it may hold objects that were not checked: fix it, --exclude it, or pass --allow-skipped)`,
        });
    }
    out.notices = out.notices.filter((n) => !n.mayHideObjects);
  }
  if (out.objects.length === 0 && out.problems.length === 0) {
    const n = out.notices.length;
    const skipped = n > 0 ? ` (${n} file${n === 1 ? '' : 's'} skipped, see above)` : '';
    out.problems.push({
      file: paths.map((p) => (p === STDIN_PATH ? STDIN_NAME : p)).join(', '),
      line: 0,
      message: `no Kubernetes objects in the input${skipped}`,
    });
  }
  return out;
}

function readStdin(stdin: ReadOptions['stdin'], maxBytes: number): Promise<Buffer> {
  if (typeof stdin === 'string') return readStreamBytes([stdin], maxBytes);
  return readStreamBytes(stdin ?? process.stdin, maxBytes);
}

/** The files the kustomizations among `files` name as patches or generator inputs (resolved path → which field). */
function kustomizeInputsOf(files: readonly string[], maxBytes: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    if (!isKustomization(file)) continue;
    try {
      for (const doc of parseYamlDocuments(decodeText(readFileBytes(file, maxBytes)), file))
        for (const [path, role] of kustomizeInputs(file, doc.value)) out.set(path, role);
    } catch {
      // The kustomization is read again as a manifest, which reports what is wrong with it.
    }
  }
  return out;
}

type Skipped = NotAnObject & { line: number };

/** The objects of one YAML or JSON text into `out` (JSON is read as YAML, as kubectl does, which keeps line numbers). */
export function parseManifestText(
  out: Pick<Manifests, 'objects' | 'problems' | 'notices'>,
  text: string,
  file: string,
): void {
  const docs = documentsOf(out, text, file);
  if (!docs) return;
  const before = { objects: out.objects.length, problems: out.problems.length, notices: out.notices.length };
  const skipped: Skipped[] =
    docs.length === 0 ? [{ line: 0, reason: 'empty (no Kubernetes objects)', class: 'empty' }] : [];
  for (const doc of docs) {
    if ('error' in doc) {
      brokenDocument(out, doc, file);
      continue;
    }
    const not = notAnObject(doc.value);
    if (not) skipped.push({ ...not, line: doc.line });
    else collectObjects(out as ObjectsOut, doc.value, '', doc, file);
  }
  const onlySkipped =
    out.objects.length === before.objects &&
    out.problems.length === before.problems &&
    out.notices.length === before.notices;
  if (skipped.length > 0 && onlySkipped) {
    const role = fileRole(file, skipped);
    out.notices.push({ file, line: 0, message: `skipped: ${role.reason}`, class: role.class });
  } else {
    for (const s of skipped) out.notices.push({ file, line: s.line, message: `skipped: ${s.reason}`, class: s.class });
  }
}

/** JSON through its fast path (one document); YAML document by document, so that a broken one does not hide the rest. */
function documentsOf(
  out: Pick<Manifests, 'problems'>,
  text: string,
  file: string,
): Array<ParsedDocument | BrokenDocument> | undefined {
  if (!/^\s*[[{]/.test(text) || TEMPLATE_ACTION.test(text)) return readYamlStream(text, file);
  try {
    return parseYamlDocuments(text, file);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    out.problems.push({ file, line: err.line, message: `YAML syntax error: ${err.reason}` });
    return undefined;
  }
}

/**
 * A document YAML cannot read is a template when it holds a template action (`{{`): Helm renders those before any
 * YAML parser reads the file. It is skipped, but it may hold objects: it never passes silently. Anything else is
 * a syntax error. A `{{` in a document YAML reads (a quoted ACM hub template, a Go template in ConfigMap data) is
 * data, and the object is checked.
 */
function brokenDocument(out: Pick<Manifests, 'problems' | 'notices'>, doc: BrokenDocument, file: string): void {
  const at = doc.text.search(TEMPLATE_ACTION);
  if (at < 0) {
    out.problems.push({ file, line: doc.error.line, message: `YAML syntax error: ${doc.error.reason}` });
    return;
  }
  let line = doc.line;
  for (let i = doc.text.indexOf('\n'); i >= 0 && i < at; i = doc.text.indexOf('\n', i + 1)) line++;
  out.notices.push({
    file,
    line,
    message: `skipped: a template ({{ … }}) that YAML cannot read: render it first, e.g. \`helm template ${chartDirOf(file)} | sctp-guard check\``,
    class: 'template',
    mayHideObjects: true,
  });
}
