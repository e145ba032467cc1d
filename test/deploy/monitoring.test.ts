import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { DEPLOY_DIR, kustomizeBuild } from '../helpers/kustomize.js';
import { repoPath } from '../helpers/repo.js';

/** Prometheus' own PromQL grammar (lezer): an expression with a syntax error has an error node in its tree. */
function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
    },
  });
  return errors;
}

// The base with the component, as a user's overlay adds it: with its one setting, where the docs are read.
const DOCS_PAGE = 'https://git.internal.test/platform/sctp-guard/blob/v0.1.0/docs/monitoring.md';
function overlayWith(setting: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-monitoring-'));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `resources: [${relative(dir, join(DEPLOY_DIR, 'base'))}]\ncomponents: [${relative(dir, join(DEPLOY_DIR, 'components', 'monitoring'))}]\n${setting}`,
  );
  return dir;
}
const SETTING = `configMapGenerator:\n  - name: sctp-guard-docs\n    literals: [monitoringPage=${DOCS_PAGE}]\n    options: {disableNameSuffixHash: true, annotations: {config.kubernetes.io/local-config: "true"}}\n`;
const objs = kustomizeBuild(overlayWith(SETTING), { cache: false });
const rule = objs.find((o) => o.kind === 'PrometheusRule') as any;
const alerts = rule.spec.groups.flatMap((g: any) => g.rules) as Array<{
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}>;
const metricsSource = readFileSync(repoPath('src/server/metrics.ts'), 'utf8');
const runbook = readFileSync(repoPath('docs/monitoring.md'), 'utf8');

t.test('the parser finds errors (it can fail)', async (t) => {
  t.same(promqlErrors('sum(rate(x[5m])) > 0'), []);
  t.not(promqlErrors('sum(rate(x[5m]) > 0').length, 0);
  t.not(promqlErrors('rate(x[5m) > ').length, 0);
});

t.test('every alert: valid PromQL, metrics that exist, a runbook section', async (t) => {
  const wanted = [
    'SctpGuardDown',
    'SctpGuardBadRequests',
    'SctpGuardRuleErrors',
    'SctpGuardSlowDecisions',
    'SctpGuardCertificateExpiringSoon',
    'SctpGuardClusterStateStale',
    'SctpGuardInformerNotSynced',
    'SctpGuardRejections',
  ];
  t.same(
    alerts.map((a) => a.alert),
    wanted,
  );
  for (const a of alerts) {
    t.same(promqlErrors(a.expr), [], `${a.alert}: ${a.expr}`);
    for (const name of a.expr.match(/\bsctp_guard_[a-z_]+/g) ?? []) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      t.ok(metricsSource.includes(`'${base}'`), `${a.alert}: ${name} is defined in src/server/metrics.ts`);
    }
    t.match(runbook, new RegExp(`^## ${a.alert}$`, 'm'), `${a.alert} has a runbook section`);
    t.equal(
      a.annotations.runbook_url,
      `${DOCS_PAGE}#${a.alert.toLowerCase()}`,
      `${a.alert}: the overlay's docs page and the alert's section`,
    );
  }
  t.match(
    alerts.find((a) => a.alert === 'SctpGuardCertificateExpiringSoon')!.expr,
    /14 \* 24 \* 3600/,
    'certificate expiring within 14 days',
  );
});

t.test(
  "the runbook links come from the overlay's setting: no built-in host, and none is invented without it",
  async (t) => {
    const shipped = readFileSync(join(DEPLOY_DIR, 'components', 'monitoring', 'prometheusrule.yaml'), 'utf8');
    t.notMatch(shipped, /runbook_url: https?:/, 'the component names no host');
    t.throws(
      () => kustomizeBuild(overlayWith(''), { cache: false }),
      /nothing selected by ConfigMap.*sctp-guard-docs/,
      'without the setting kustomize stops',
    );
    t.notOk(
      objs.some((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'sctp-guard-docs'),
      'the setting is not applied to the cluster (local-config)',
    );
  },
);

t.test('the ServiceMonitor scrapes the metrics Service by its port name', async (t) => {
  const monitor = objs.find((o) => o.kind === 'ServiceMonitor') as any;
  const service = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'sctp-guard-metrics') as any;
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
    t.equal(service.metadata.labels[k], v, `selects the metrics Service by ${k}`);
  t.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name);
  t.notOk(
    objs.some(
      (o) =>
        o.kind === 'Service' &&
        o.metadata.name === 'sctp-guard' &&
        o.metadata.labels?.['app.kubernetes.io/component'] === 'metrics',
    ),
    'not the webhook Service',
  );
});
