import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { stringify } from 'yaml';
import {
  DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
  WEBHOOK_CONFIG_NAME,
  webhookConfigurations,
  type WebhookConfigurations,
  type WebhookTarget,
} from '../admission/webhook-config.js';
import type { Rule } from '../engine/types.js';
import { ALL_RULES } from '../rules/index.js';
import { connect, CONTEXT_HELP, KUBECONFIG_HELP } from './kube.js';
import { DEFAULT_SERVICE_NAME } from './certs.js';
import { commandPolicy, ownNamespace, positiveInt } from './options.js';

export interface RegisterOptions {
  kubeconfig?: string;
  context?: string;
  caBundle?: string;
  serviceName: string;
  namespace: string;
  servicePort: number;
  url?: string;
  config?: string;
  legacy: boolean;
  timeoutSeconds: number;
  dryRun: boolean;
}

export interface UnregisterOptions {
  kubeconfig?: string;
  context?: string;
  dryRun: boolean;
}

/** What register and unregister write: kubectl-style lines on stdout. */
export type Print = (line: string) => void;

const KINDS = {
  validating: 'validatingwebhookconfiguration.admissionregistration.k8s.io',
  mutating: 'mutatingwebhookconfiguration.admissionregistration.k8s.io',
} as const;

type ConfigKey = keyof typeof KINDS;

function timeoutSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 30)
    throw new InvalidArgumentError(`the API server accepts 1 to 30 seconds, got "${value}"`);
  return n;
}

/** The API server calls webhooks over HTTPS only, and rejects a URL with a query or fragment. */
export function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL; expected https://host:port`);
  }
  if (url.protocol !== 'https:')
    throw new InvalidArgumentError(`"${value}": the API server reaches webhooks over https only`);
  if (url.search || url.hash || url.username || url.password)
    throw new InvalidArgumentError(`"${value}": no query, fragment or user info allowed in a webhook URL`);
  return value;
}

/**
 * The CA bundle as published in both webhook configurations, which anyone who may list them can read: only
 * certificates, each a CA (basicConstraints CA:TRUE), rebuilt from the CERTIFICATE blocks so that nothing else in
 * the file (a private key, text) is ever sent.
 */
export function readCaBundle(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `--ca-bundle ${file}: cannot read the CA certificate (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); make one with \`sctp-guard certs\` or pass the CA that signed the serving certificate`,
    );
  }
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  const other = blocks.find((b) => b[1] !== 'CERTIFICATE');
  if (other)
    throw new Error(
      `--ca-bundle ${file}: holds a ${other[1]} block, and the bundle is published in the webhook configurations: pass a file with only the CA certificate (ca.crt, never a key)`,
    );
  if (blocks.length === 0) throw new Error(`--ca-bundle ${file}: not a PEM certificate (no BEGIN CERTIFICATE block)`);
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block[0]);
    } catch (err) {
      throw new Error(
        `--ca-bundle ${file}: certificate ${i + 1} is not a valid PEM certificate (${(err as Error).message})`,
      );
    }
    if (!cert.ca)
      throw new Error(
        `--ca-bundle ${file}: certificate ${i + 1} (${cert.subject.replace(/\n/g, ', ')}) is not a CA (no basicConstraints CA:TRUE): pass the CA that signed the serving certificate, not the serving certificate`,
      );
  }
  // As it was written when it holds nothing else; else only its certificates.
  return pem.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, '').trim() === ''
    ? pem
    : `${blocks.map((b) => b[0]).join('\n')}\n`;
}

/** The objects register would write, from the rules, the policy's exclusions and the target. */
export function configurationsFor(opts: RegisterOptions, rules: readonly Rule[] = ALL_RULES): WebhookConfigurations {
  if (!opts.dryRun && !opts.caBundle) {
    throw new Error(
      '--ca-bundle FILE is required: the API server verifies the webhook with it (only --dry-run may leave it out, for CA injection)',
    );
  }
  const target: WebhookTarget = opts.url
    ? { url: opts.url }
    : { service: { name: opts.serviceName, namespace: opts.namespace, port: opts.servicePort } };
  return webhookConfigurations({
    rules,
    policy: commandPolicy(opts.config, opts.namespace),
    target,
    caBundlePem: opts.caBundle ? readCaBundle(opts.caBundle) : undefined,
    matchConditions: !opts.legacy,
    timeoutSeconds: opts.timeoutSeconds,
  });
}

/** Multi-document YAML, long CEL expressions kept on one line. */
export function toYaml(configs: WebhookConfigurations): string {
  return `# sctp-guard webhook configurations, derived from the rules' matches by \`sctp-guard register --dry-run\`\n${[
    configs.validating,
    configs.mutating,
  ]
    .filter((c) => c !== undefined)
    .map((c) => stringify(c, { lineWidth: 0 }))
    .join('---\n')}`;
}

const CONFIGURATIONS = '/apis/admissionregistration.k8s.io/v1';
const PLURALS: Record<ConfigKey, string> = {
  validating: 'validatingwebhookconfigurations',
  mutating: 'mutatingwebhookconfigurations',
};
const configPath = (key: ConfigKey) => `${CONFIGURATIONS}/${PLURALS[key]}/${WEBHOOK_CONFIG_NAME}`;

export async function register(opts: RegisterOptions, print: Print, rules: readonly Rule[] = ALL_RULES): Promise<void> {
  const configs = configurationsFor(opts, rules);
  if (opts.dryRun) {
    print(toYaml(configs).trimEnd());
    return;
  }
  const api = await connect(opts.kubeconfig, opts.context);
  for (const key of Object.keys(KINDS) as ConfigKey[]) {
    const object = configs[key];
    if (object) {
      print(
        `${KINDS[key]}/${WEBHOOK_CONFIG_NAME} ${await api.apply(configPath(key), object as unknown as Record<string, unknown>)}`,
      );
    } else if (await api.delete(configPath(key))) {
      // No rule runs in this phase any more: a configuration left from an older version would call a dead route.
      print(`${KINDS[key]}/${WEBHOOK_CONFIG_NAME} deleted (no rule runs in this phase)`);
    }
  }
}

export async function unregister(opts: UnregisterOptions, print: Print): Promise<void> {
  if (opts.dryRun) {
    for (const kind of Object.values(KINDS)) print(`${kind}/${WEBHOOK_CONFIG_NAME} would be deleted (dry run)`);
    return;
  }
  const api = await connect(opts.kubeconfig, opts.context);
  for (const key of Object.keys(KINDS) as ConfigKey[]) {
    const deleted = await api.delete(configPath(key));
    print(`${KINDS[key]}/${WEBHOOK_CONFIG_NAME} ${deleted ? 'deleted' : 'not found'}`);
  }
}

const stdoutLine: Print = (line) => process.stdout.write(`${line}\n`);

export function registerRegisterCommands(program: Command): void {
  program
    .command('register')
    .description('create or update the validating and mutating webhook configurations (from the rules) through the API')
    .option('--kubeconfig <file>', KUBECONFIG_HELP)
    .option('--context <name>', CONTEXT_HELP)
    .option('--ca-bundle <file>', 'PEM CA that signed the serving certificate (required unless --dry-run)')
    .option('--service-name <name>', 'service mode: the webhook Service', DEFAULT_SERVICE_NAME)
    .option(
      '--namespace <ns>',
      'namespace of the Service, always excluded from checks ($POD_NAMESPACE, else sctp-guard)',
      ownNamespace(),
    )
    .option('--service-port <port>', 'service mode: the Service port', positiveInt, 443)
    .option(
      '--url <https://host:port>',
      'URL mode: a webhook running outside the cluster (/validate and /mutate are appended)',
      webhookUrl,
    )
    .option('--config <file>', 'policy file: its excludedNamespaces are skipped by the API server too')
    .option(
      '--legacy',
      'no matchConditions (Kubernetes < 1.28; GA from 1.30): every object of the watched kinds is sent, failurePolicy Ignore',
      false,
    )
    .option(
      '--timeout-seconds <n>',
      'how long the API server waits for an answer (1-30)',
      timeoutSeconds,
      DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
    )
    .option('--dry-run', 'print the objects as YAML and touch nothing', false)
    .action(async (opts: RegisterOptions, cmd: Command) => {
      const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      if (opts.url && (explicit('serviceName') || explicit('servicePort'))) {
        throw new Error('--url (URL mode) and --service-name/--service-port (service mode) exclude each other');
      }
      await register(opts, stdoutLine);
    });
  program
    .command('unregister')
    .description('delete the webhook configurations (the API server stops calling sctp-guard at once)')
    .option('--kubeconfig <file>', KUBECONFIG_HELP)
    .option('--context <name>', CONTEXT_HELP)
    .option('--dry-run', 'say what would be deleted and touch nothing', false)
    .action(async (opts: UnregisterOptions) => {
      await unregister(opts, stdoutLine);
    });
}
