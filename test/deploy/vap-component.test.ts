import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validatingAdmissionPolicies } from '../../src/admission/vap.js';
import { webhookConfigurations } from '../../src/admission/webhook-config.js';
import { exportVap, vapComponentFile } from '../../src/cli/export.js';
import { parsePolicy } from '../../src/policy/load.js';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { kustomizeBuild } from '../helpers/kustomize.js';
import { REPO_ROOT } from '../helpers/repo.js';

const DEPLOY = join(REPO_ROOT, 'deploy');
const yaml = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((d) => d !== null) as any[];

/** `kubectl kustomize` of an overlay with the vap component added, as a user's own kustomization would. */
function buildWithVap(overlay: string): any[] {
  const dir = mkdtempSync(join(REPO_ROOT, '.tmp-vap-'));
  try {
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `resources: [${relative(dir, join(DEPLOY, overlay))}]\ncomponents: [${relative(dir, join(DEPLOY, 'components/vap'))}]\n`,
    );
    return kustomizeBuild(dir, { cache: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test(
  'deploy/components/vap/policies.yaml is `export vap` of the default policy, as `npm run generate:vap` writes it',
  async (t) => {
    const file = readFileSync(join(DEPLOY, 'components/vap/policies.yaml'), 'utf8');
    t.equal(file, vapComponentFile(), 'stale: run npm run generate:vap');
    t.same(yaml(file), yaml(exportVap({ output: 'yaml' })));
  },
);

for (const overlay of ['base', 'overlays/openshift', 'overlays/cert-manager']) {
  t.test(
    `${overlay} + components/vap: the policies, the policy file in VAP mode, and the webhook without the stateless rules`,
    async (t) => {
      const objects = buildWithVap(overlay);
      const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sctp-guard-policy');
      const policy = parsePolicy(configMap.data['policy.yaml'], 'policy.yaml', {
        webhookNamespace: DEFAULT_WEBHOOK_NAMESPACE,
        rules: ALL_RULES,
      });
      t.equal(policy.statelessRules, 'vap', 'the webhook is told to skip the rules the API server enforces');

      // kustomize sorts its output by kind and name.
      const byKindName = (a: any, b: any) =>
        `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
      const expected = validatingAdmissionPolicies(ALL_RULES, policy)
        .flatMap((p) => [p.policy, p.binding])
        .sort(byKindName);
      const vaps = objects.filter((o) => /^ValidatingAdmissionPolicy/.test(o.kind)).sort(byKindName);
      t.same(vaps, expected, 'the VAPs are those of the deployed policy');

      const webhook = objects.find((o) => o.kind === 'ValidatingWebhookConfiguration');
      const generated = webhookConfigurations({
        rules: ALL_RULES,
        policy,
        target: { service: { name: 'sctp-guard', namespace: DEFAULT_WEBHOOK_NAMESPACE, port: 443 } },
      }).validating!;
      const { clientConfig: _c, ...rest } = webhook.webhooks[0];
      const { clientConfig: _g, ...want } = generated.webhooks![0] as any;
      t.same(rest, want, 'the webhook equals register --dry-run under the VAP-mode policy');
      t.notOk(
        JSON.stringify(webhook).includes('gateways'),
        'Gateways no longer go to the webhook: an outage cannot block them',
      );
      t.ok(
        webhook.webhooks[0].rules.some((r: any) => r.resources.includes('services')),
        'Services still do (sctp-module-loaded needs node state)',
      );
    },
  );
}
