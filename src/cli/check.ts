import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadClusterState } from '../cluster/offline.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from '../cluster/snapshot.js';
import { Engine } from '../engine/engine.js';
import { reviewObject } from '../engine/review-object.js';
import type { Policy } from '../policy/types.js';
import { ALL_RULES } from '../rules/index.js';
import { clusterDataOf } from '../engine/cluster-data.js';
import { connect, CONTEXT_HELP, liveSnapshot } from './kube.js';
import { STDIN_PATH } from '../input/files.js';
import { readManifests } from '../input/manifests.js';
import { formatProblem } from '../input/problems.js';
import { DEFAULT_MAX_FILE_BYTES, formatBytes, parseByteSize, ReadError } from '../input/read.js';
import { clusterStateOption, collect, commandPolicy, commaList, packageVersion, useColour } from './options.js';
import { formatGithub } from './output/github.js';
import { formatJson } from './output/json.js';
import { formatJunit } from './output/junit.js';
import { exitCodeOf, summaryLine, toReported, type Report } from './output/report.js';
import { formatSarif } from './output/sarif.js';
import { formatTap } from './output/tap.js';
import { formatText } from './output/text.js';
import { formatYamlStream } from './output/yaml.js';

export const CHECK_FORMATS = ['text', 'json', 'junit', 'yaml', 'sarif', 'github', 'tap'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckOptions {
  filename: string[];
  exclude?: string[];
  skipKinds?: string[];
  clusterState?: string;
  kubeconfig?: string;
  context?: string;
  config?: string;
  output: CheckFormat;
  mutate: boolean;
  failOnWarn?: boolean;
  quiet?: boolean;
  summary?: boolean;
  /** Accept skips that may hide objects (templates YAML cannot read, unreadable files): exit 0 is then possible. */
  allowSkipped?: boolean;
  /** The largest file (and stdin) read, in bytes. */
  maxFileSize?: number;
}

/** Where check writes; a test passes its own. */
export interface CheckIo {
  stdout: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  stderr: Pick<NodeJS.WriteStream, 'write'>;
  /** What `-` reads (process.stdin unless given). */
  stdin?: string | AsyncIterable<Buffer | string>;
  env?: NodeJS.ProcessEnv;
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      "check manifests offline with the webhook's rules (exit 0 nothing denied, 1 something denied, 2 input unreadable or an object malformed)",
    )
    .argument(
      '[paths...]',
      'more files, folders or globs, as with -f; stdin when none is given and stdin is not a terminal',
    )
    .option(
      '-f, --filename <path>',
      'file, folder (recursive: *.yaml, *.yml, *.json; dot-folders left out), quoted glob, or - for stdin; repeatable',
      collect,
      [],
    )
    .option(
      '--exclude <glob>',
      'leave out matching paths (charts/**, *.tmpl.yaml; a glob without / matches a name anywhere); repeatable',
      collect,
      [],
    )
    .option(
      '--skip-kinds <kinds>',
      'do not check objects of these kinds (comma-separated: Secret,ConfigMap); repeatable',
      commaList,
      [],
    )
    .addOption(clusterStateOption())
    .option(
      '--kubeconfig <file>',
      'take the cluster state from a live cluster through this kubeconfig (one snapshot); --context alone: from $KUBECONFIG or ~/.kube/config',
    )
    .option('--context <name>', CONTEXT_HELP)
    .option('--config <file>', 'policy file (YAML); the openshift-baremetal preset without one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(CHECK_FORMATS).default('text'))
    .option(
      '--mutate',
      'with -o yaml or -o json: print the admitted objects after the mutating rules, ready for kubectl apply -f -',
      false,
    )
    .option(
      '--allow-skipped',
      'let a run whose skips may hide objects (a template YAML cannot read, an unreadable file) exit 0 or 1; without it such a skip is an input error (exit 2)',
      false,
    )
    .option(
      '--max-file-size <size>',
      `the largest file (and stdin) read, as bytes or with Ki, Mi, Gi (default ${formatBytes(DEFAULT_MAX_FILE_BYTES).replace(' MiB', 'Mi')})`,
      byteSize,
    )
    .option('--fail-on-warn', 'exit 1 when something is warned about, as when something is denied', false)
    .addOption(
      new Option(
        '-q, --quiet',
        'print only findings: no notices about skipped files, and the summary line only when something was skipped',
      ).conflicts('summary'),
    )
    .option('--summary', 'print only the summary line (counts)')
    .action(async (paths: string[], opts: CheckOptions, command: Command) => {
      const all = [...opts.filename, ...paths];
      if (all.length === 0) {
        if (process.stdin.isTTY)
          command.error('error: no input: give files, folders or - (stdin) with -f, or pipe manifests in', {
            exitCode: 2,
          });
        all.push(STDIN_PATH);
      }
      process.exitCode = await check({ ...opts, filename: all }, { stdout: process.stdout, stderr: process.stderr });
    });
}

/** Runs the check and writes its output; returns the exit code. */
export async function check(
  opts: CheckOptions,
  io: CheckIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const policy = commandPolicy(opts.config);
  const engine = new Engine(ALL_RULES, policy);
  const manifests = await readManifests(opts.filename, {
    exclude: opts.exclude,
    stdin: io.stdin,
    maxFileBytes: opts.maxFileSize,
    allowSkipped: opts.allowSkipped,
  });
  const notices = manifests.notices;
  const skipKinds = new Set(opts.skipKinds ?? []);
  const snapshot = await snapshotFor(opts, policy);
  const report: Report = {
    command: 'check',
    objects: [],
    problems: manifests.problems,
    notices,
    reportedAtOwner: 0,
    startedAt: new Date(),
  };
  const sources = manifests.objects.filter((m) => !skipKinds.has(m.object.kind ?? ''));
  if (sources.length === 0 && manifests.objects.length > 0 && manifests.problems.length === 0) {
    manifests.problems.push({
      file: opts.filename.join(', '),
      line: 0,
      message: `no Kubernetes objects left to check: every one is of a kind in --skip-kinds (${[...skipKinds].join(', ')})`,
    });
  }
  const printsObjects = opts.output === 'yaml' || (opts.output === 'json' && opts.mutate);
  for (const source of sources) {
    const review = reviewObject(engine, snapshot, source.object);
    const reported = toReported(review, false, source);
    if (printsObjects) reported.object = opts.mutate ? review.object : source.object;
    report.objects.push(reported);
  }

  const colour = useColour(io.stdout, io.env ?? process.env);
  if (!opts.quiet && !opts.summary)
    for (const n of notices) io.stderr.write(`sctp-guard: notice: ${formatProblem(n)}\n`);
  for (const w of manifests.warnings) io.stderr.write(`sctp-guard: warning: ${w}\n`);
  for (const p of report.problems) io.stderr.write(`sctp-guard: ${formatProblem(p)}\n`);
  const code = exitCodeOf(report, { failOnWarn: opts.failOnWarn });
  if (opts.summary) {
    io.stdout.write(`${summaryLine(report)}\n`);
    return code;
  }
  switch (opts.output) {
    case 'text':
      // Skips are counted even with --quiet: a CI log that shows only findings still says what was not read.
      io.stdout.write(formatText(report, { colour, summary: !opts.quiet || notices.length > 0 }));
      break;
    case 'json':
      if (opts.mutate) writeAdmitted(report, io, 'json');
      else io.stdout.write(formatJson(report));
      break;
    case 'yaml':
      writeAdmitted(report, io, 'yaml');
      break;
    case 'junit':
      io.stdout.write(formatJunit(report));
      break;
    case 'sarif':
      io.stdout.write(formatSarif(report, engine.rules, packageVersion()));
      break;
    case 'github':
      io.stdout.write(formatGithub(report));
      break;
    case 'tap':
      io.stdout.write(formatTap(report));
      break;
  }
  return code;
}

/**
 * stdout stays a clean stream for `kubectl apply -f -` holding only what the API server would admit (after the
 * mutating rules with --mutate); denied objects are left out and everything found goes to stderr, with exit 1.
 */
function writeAdmitted(report: Report, io: CheckIo, as: 'yaml' | 'json'): void {
  const admitted = report.objects.filter((o) => o.result !== 'deny').map((o) => o.object!);
  if (as === 'yaml') io.stdout.write(formatYamlStream(admitted));
  else io.stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: admitted }, null, 2)}\n`);
  io.stderr.write(formatText(report, { colour: false, summary: true }));
}

function byteSize(text: string): number {
  try {
    return parseByteSize(text);
  } catch (err) {
    if (err instanceof ReadError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** Offline state from files, one live snapshot, or none (rules that need node state then follow unknownNodeState). */
async function snapshotFor(
  opts: Pick<CheckOptions, 'clusterState' | 'kubeconfig' | 'context'>,
  policy: Policy,
): Promise<ClusterSnapshot> {
  const kinds = clusterDataOf(ALL_RULES);
  if (opts.clusterState) return loadClusterState(opts.clusterState, kinds);
  if (opts.kubeconfig || opts.context) return liveSnapshot(await connect(opts.kubeconfig, opts.context), policy, kinds);
  return EMPTY_SNAPSHOT;
}
