import { Option, type Command } from 'commander';
import { validatingAdmissionPolicies } from '../admission/vap.js';
import type { KubeObject } from '../engine/types.js';
import { ALL_RULES } from '../rules/index.js';
import { commandPolicy } from './options.js';
import { formatYamlStream } from './output/yaml.js';

export const EXPORT_FORMATS = ['yaml', 'json'] as const;

export interface ExportVapOptions {
  config?: string;
  output: (typeof EXPORT_FORMATS)[number];
}

export function registerExportCommand(program: Command): void {
  const exporter = program.command('export').description('write sctp-guard\'s rules in another form');
  exporter
    .command('vap')
    .description('ValidatingAdmissionPolicies and bindings (Kubernetes >= 1.30) for the rules that need no cluster state (exit 0, 2 bad policy)')
    .option('--config <file>', 'policy file (YAML): allowed Service types, Gateways, enforcement, excluded namespaces')
    .addOption(new Option('-o, --output <format>', 'yaml (a stream for kubectl apply -f -) or json (a v1 List)').choices(EXPORT_FORMATS).default('yaml'))
    .action((opts: ExportVapOptions) => {
      process.stdout.write(exportVap(opts));
    });
}

export function exportVap(opts: ExportVapOptions): string {
  const objects = validatingAdmissionPolicies(ALL_RULES, commandPolicy(opts.config)).flatMap((p) => [p.policy, p.binding]) as KubeObject[];
  if (opts.output === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return formatYamlStream(objects);
}
