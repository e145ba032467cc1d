import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { AdmissionregistrationV1Api } from '@kubernetes/client-node';
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
import { describeNetworkError, describeStatus } from '../cluster/kube-api.js';
import { CONTEXT_HELP, KUBECONFIG_HELP, requireKubeConfig } from './kube.js';
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
  if (!Number.isInteger(n) || n < 1 || n > 30) throw new InvalidArgumentError(`the API server accepts 1 to 30 seconds, got "${value}"`);
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
  if (url.protocol !== 'https:') throw new InvalidArgumentError(`"${value}": the API server reaches webhooks over https only`);
  if (url.search || url.hash || url.username || url.password) throw new InvalidArgumentError(`"${value}": no query, fragment or user info allowed in a webhook URL`);
  return value;
}

function readCaBundle(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--ca-bundle ${file}: cannot read the CA certificate (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); make one with \`sctp-guard certs\` or pass the CA that signed the serving certificate`);
  }
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new Error(`--ca-bundle ${file}: not a PEM certificate (${(err as Error).message})`);
  }
  return pem;
}

/** The objects register would write, from the rules, the policy's exclusions and the target. */
export function configurationsFor(opts: RegisterOptions, rules: readonly Rule[] = ALL_RULES): WebhookConfigurations {
  if (!opts.dryRun && !opts.caBundle) {
    throw new Error('--ca-bundle FILE is required: the API server verifies the webhook with it (only --dry-run may leave it out, for CA injection)');
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
  return `# sctp-guard webhook configurations, derived from the rules' matches by \`sctp-guard register --dry-run\`\n${[configs.validating, configs.mutating]
    .filter((c) => c !== undefined)
    .map((c) => stringify(c, { lineWidth: 0 }))
    .join('---\n')}`;
}

/** client-node's ApiException, recognised by shape: the module is loaded only when a command talks to a cluster. */
function isApiException(err: unknown): err is { code: number; body: unknown } {
  return typeof (err as { code?: unknown } | null)?.code === 'number';
}

/** Turns a client error into one line: the HTTP status and the API server's own reason, or why there was no answer. */
function apiError(action: string, err: unknown): Error {
  if (isApiException(err)) {
    const body = parseStatus(err.body);
    return new Error(describeStatus(action, { status: err.code, reason: body?.reason, message: body?.message ?? 'refused' }));
  }
  return new Error(`${action}: cannot reach the API server: ${describeNetworkError(err)}`);
}

function parseStatus(body: unknown): { reason?: string; message?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { reason?: string; message?: string };
    } catch {
      return body ? { message: body } : undefined;
    }
  }
  return body && typeof body === 'object' ? (body as { reason?: string; message?: string }) : undefined;
}

function status(err: unknown): number | undefined {
  return isApiException(err) ? err.code : undefined;
}

type Api = AdmissionregistrationV1Api;

/** Typed access to the two configuration kinds through the same four verbs. */
function verbs(api: Api, key: ConfigKey) {
  return key === 'validating'
    ? {
        read: (name: string) => api.readValidatingWebhookConfiguration({ name }),
        create: (body: object) => api.createValidatingWebhookConfiguration({ body }),
        replace: (name: string, body: object) => api.replaceValidatingWebhookConfiguration({ name, body }),
        remove: (name: string) => api.deleteValidatingWebhookConfiguration({ name }),
      }
    : {
        read: (name: string) => api.readMutatingWebhookConfiguration({ name }),
        create: (body: object) => api.createMutatingWebhookConfiguration({ body }),
        replace: (name: string, body: object) => api.replaceMutatingWebhookConfiguration({ name, body }),
        remove: (name: string) => api.deleteMutatingWebhookConfiguration({ name }),
      };
}

async function readOrUndefined(read: () => Promise<{ metadata?: { resourceVersion?: string } }>, action: string) {
  try {
    return await read();
  } catch (err) {
    if (status(err) === 404) return undefined;
    throw apiError(action, err);
  }
}

const CONFLICT_RETRIES = 3;

/** Create, or replace keeping the stored resourceVersion; a concurrent writer (409) means read and try again. */
async function upsert(api: Api, key: ConfigKey, object: { metadata?: { name?: string; resourceVersion?: string } }): Promise<'created' | 'configured'> {
  const v = verbs(api, key);
  const name = object.metadata!.name!;
  const action = `register ${KINDS[key]}/${name}`;
  for (let attempt = 1; ; attempt++) {
    const existing = await readOrUndefined(() => v.read(name), action);
    try {
      if (!existing) {
        await v.create(object);
        return 'created';
      }
      await v.replace(name, { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } });
      return 'configured';
    } catch (err) {
      if (status(err) === 409 && attempt < CONFLICT_RETRIES) continue;
      throw apiError(action, err);
    }
  }
}

async function remove(api: Api, key: ConfigKey, name: string): Promise<boolean> {
  try {
    await verbs(api, key).remove(name);
    return true;
  } catch (err) {
    if (status(err) === 404) return false;
    throw apiError(`unregister ${KINDS[key]}/${name}`, err);
  }
}

export async function register(opts: RegisterOptions, print: Print, rules: readonly Rule[] = ALL_RULES): Promise<void> {
  const configs = configurationsFor(opts, rules);
  if (opts.dryRun) {
    print(toYaml(configs).trimEnd());
    return;
  }
  const api = (await requireKubeConfig(opts.kubeconfig, opts.context)).makeApiClient((await import('@kubernetes/client-node')).AdmissionregistrationV1Api);
  for (const key of Object.keys(KINDS) as ConfigKey[]) {
    const object = configs[key];
    if (object) {
      print(`${KINDS[key]}/${WEBHOOK_CONFIG_NAME} ${await upsert(api, key, object)}`);
    } else if (await remove(api, key, WEBHOOK_CONFIG_NAME)) {
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
  const api = (await requireKubeConfig(opts.kubeconfig, opts.context)).makeApiClient((await import('@kubernetes/client-node')).AdmissionregistrationV1Api);
  for (const key of Object.keys(KINDS) as ConfigKey[]) {
    const deleted = await remove(api, key, WEBHOOK_CONFIG_NAME);
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
    .option('--namespace <ns>', 'namespace of the Service, always excluded from checks ($POD_NAMESPACE, else sctp-guard)', ownNamespace())
    .option('--service-port <port>', 'service mode: the Service port', positiveInt, 443)
    .option('--url <https://host:port>', 'URL mode: a webhook running outside the cluster (/validate and /mutate are appended)', webhookUrl)
    .option('--config <file>', "policy file: its excludedNamespaces are skipped by the API server too")
    .option('--legacy', 'no matchConditions (Kubernetes < 1.28; GA from 1.30): every object of the watched kinds is sent, failurePolicy Ignore', false)
    .option('--timeout-seconds <n>', 'how long the API server waits for an answer (1-30)', timeoutSeconds, DEFAULT_WEBHOOK_TIMEOUT_SECONDS)
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
