import { Option, type Command } from 'commander';
import { loadClusterState } from '../cluster/offline.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from '../cluster/snapshot.js';
import { Engine } from '../engine/engine.js';
import { reviewObject } from '../engine/review-object.js';
import type { Policy } from '../policy/types.js';
import { ALL_RULES } from '../rules/index.js';
import { liveSnapshot, requireKubeConfig } from './audit.js';
import { formatProblem, readManifests } from './manifests.js';
import { formatJson } from './output/json.js';
import { formatJunit } from './output/junit.js';
import { exitCodeOf, toReported, type Report } from './output/report.js';
import { formatText } from './output/text.js';
import { formatYamlStream } from './output/yaml.js';
import { commandPolicy } from './options.js';

export const CHECK_FORMATS = ['text', 'json', 'junit', 'yaml'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckOptions {
  filename: string[];
  clusterState?: string;
  kubeconfig?: string;
  config?: string;
  output: CheckFormat;
  mutate: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check manifests offline with the webhook\'s rules (exit 0 nothing denied, 1 something denied, 2 bad input or policy)')
    .argument('[paths...]', 'more files or folders, as with -f')
    .option('-f, --filename <path>', 'file, folder (recursive: *.yaml, *.yml, *.json) or - for stdin; repeatable', collect, [])
    .addOption(new Option('--cluster-state <dir>', 'offline cluster state: YAML of Nodes, MachineConfigs, MachineConfigPools').conflicts('kubeconfig'))
    .option('--kubeconfig <file>', 'take the cluster state from a live cluster (one snapshot)')
    .option('--config <file>', 'policy file (YAML); the openshift-baremetal preset without one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(CHECK_FORMATS).default('text'))
    .option('--mutate', 'output the objects after the mutating rules: -o yaml prints them, -o json adds them as "mutated"', false)
    .action(async (paths: string[], opts: Omit<CheckOptions, 'filename'> & { filename: string[] }, command: Command) => {
      const all = [...opts.filename, ...paths];
      if (all.length === 0) command.error('error: no input: give files, folders or - (stdin) with -f', { exitCode: 2 });
      process.exitCode = await check({ ...opts, filename: all });
    });
}

/** Runs the check and writes its output; returns the exit code. */
export async function check(opts: CheckOptions): Promise<number> {
  const policy = commandPolicy(opts.config);
  const engine = new Engine(ALL_RULES, policy);
  const manifests = readManifests(opts.filename);
  const snapshot = await snapshotFor(opts, policy);
  const report: Report = { command: 'check', objects: [], problems: manifests.problems, reportedAtOwner: 0, startedAt: new Date() };
  for (const { object, file, line } of manifests.objects) {
    report.objects.push(toReported(reviewObject(engine, snapshot, object), opts.mutate, { file, line }));
  }

  for (const p of report.problems) process.stderr.write(`sctp-guard: ${formatProblem(p)}\n`);
  switch (opts.output) {
    case 'text':
      process.stdout.write(formatText(report));
      break;
    case 'json':
      process.stdout.write(formatJson(report, { mutate: opts.mutate }));
      break;
    case 'junit':
      process.stdout.write(formatJunit(report));
      break;
    case 'yaml': {
      // stdout stays a clean YAML stream for `kubectl apply -f -`; what was found goes to stderr.
      const objects = report.objects.map((o, i) => (opts.mutate ? o.object! : manifests.objects[i]!.object));
      process.stdout.write(formatYamlStream(objects));
      process.stderr.write(formatText(report));
      break;
    }
  }
  return exitCodeOf(report);
}

/** Offline state from files, one live snapshot, or none (rules that need node state then follow unknownNodeState). */
async function snapshotFor(opts: Pick<CheckOptions, 'clusterState' | 'kubeconfig'>, policy: Policy): Promise<ClusterSnapshot> {
  if (opts.clusterState) return loadClusterState(opts.clusterState);
  if (opts.kubeconfig) return liveSnapshot(await requireKubeConfig(opts.kubeconfig), opts.kubeconfig, policy);
  return EMPTY_SNAPSHOT;
}
