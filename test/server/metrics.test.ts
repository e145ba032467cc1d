import t from 'tap';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { readFileSync } from 'node:fs';
import type { InformerStatus } from '../../src/cluster/informers.js';
import { describeCertificate } from '../../src/server/cert-reload.js';
import type { AuditRecord } from '../../src/server/audit-record.js';
import { LATENCY_BUCKETS, OBSERVATION_BATCH, ServerMetrics } from '../../src/server/metrics.js';
import { admissionReview, exampleObject, testApp, testDevCerts, testMetricsApp } from '../helpers/admission.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

/** `name{labels} value` lines of the exposition, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function setup(informers: InformerStatus[] = []) {
  const certs = testDevCerts();
  const certificate = describeCertificate(readFileSync(certs.cert));
  const metrics = new ServerMetrics({ informers: () => informers, certificate: () => certificate, now: () => NOW });
  const { app } = testApp({ onDecision: metrics.observeDecision, onBadRequest: metrics.observeBadRequest });
  const metricsApp = testMetricsApp(metrics);
  const post = (path: string, body: unknown) =>
    app.inject({
      method: 'POST',
      url: path,
      payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const scrape = async () => {
    const res = await metricsApp.inject({ method: 'GET', url: '/metrics' });
    return { res, values: samples(res.body) };
  };
  return { app, metrics, certificate, post, scrape };
}

t.test('admission requests by kind, operation and decision; rule results by rule; latency; bad requests', async (t) => {
  const { post, scrape } = setup();
  const lb = exampleObject('ako-sctp-loadbalancer.yaml', 'Service');
  const npl = exampleObject('antrea-npl-sctp-service.yaml', 'Service');
  t.equal((await post('/validate', admissionReview(lb))).json().response.allowed, false);
  t.equal((await post('/validate', admissionReview(lb))).json().response.allowed, false);
  t.equal((await post('/validate', admissionReview(npl, { operation: 'UPDATE', oldObject: npl }))).statusCode, 200);
  t.equal(
    (await post('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })).statusCode,
    400,
  );
  t.equal((await post('/mutate', 'not json at all')).statusCode, 400);

  const { res, values } = await scrape();
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.equal(
    values.get(
      'sctp_guard_admission_requests_total{phase="validate",kind="Service",operation="CREATE",decision="deny"}',
    ),
    2,
  );
  t.equal(
    values.get(
      'sctp_guard_rule_results_total{phase="validate",kind="Service",operation="CREATE",rule="sctp-service-type",decision="deny"}',
    ),
    2,
  );
  const nplRequests = [...values].filter(([k]) =>
    k.startsWith('sctp_guard_admission_requests_total{phase="validate",kind="Service",operation="UPDATE"'),
  );
  t.equal(
    nplRequests.reduce((n, [, v]) => n + v, 0),
    1,
    'the UPDATE is counted once, whatever its decision',
  );
  t.equal(
    values.get(
      'sctp_guard_rule_results_total{phase="validate",kind="Service",operation="UPDATE",rule="nodeportlocal-sctp",decision="warn"}',
    ),
    1,
  );
  t.equal(values.get('sctp_guard_admission_duration_seconds_count{phase="validate",decision="deny"}'), 2);
  t.equal(
    values.get('sctp_guard_admission_duration_seconds_bucket{le="+Inf",phase="validate",decision="deny"}'),
    2,
    'latency histogram',
  );
  t.equal(values.get('sctp_guard_bad_requests_total{route="/validate",code="400"}'), 1);
  t.equal(values.get('sctp_guard_bad_requests_total{route="/mutate",code="400"}'), 1);
});

t.test('a route label never comes from the raw URL: unknown routes count as other', async (t) => {
  const { metrics, scrape } = setup();
  metrics.observeBadRequest('/validate?x=' + 'a'.repeat(100), 400);
  metrics.observeBadRequest('/anything/else', 400);
  const { values } = await scrape();
  t.equal(values.get('sctp_guard_bad_requests_total{route="other",code="400"}'), 2);
});

t.test('a kind the client chose is never a label: kinds outside the registry count as other', async (t) => {
  const { post, scrape } = setup();
  for (let i = 0; i < 3; i++) {
    const review = admissionReview({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'default' },
    });
    review.request.kind.kind = `Widget${i}`.padEnd(10_000, 'x');
    t.equal((await post('/validate', review)).statusCode, 200);
  }
  t.equal(
    (await post('/validate', admissionReview(exampleObject('ako-sctp-loadbalancer.yaml', 'Service')))).statusCode,
    200,
  );
  const { res, values } = await scrape();
  t.notMatch(res.body, /Widget/, 'no client-chosen kind in any label');
  t.equal(
    values.get(
      'sctp_guard_admission_requests_total{phase="validate",kind="other",operation="CREATE",decision="allow"}',
    ),
    3,
  );
  t.equal(
    values.get(
      'sctp_guard_admission_requests_total{phase="validate",kind="Service",operation="CREATE",decision="deny"}',
    ),
    1,
    'registry kinds keep their name',
  );
});

t.test('informer state at scrape time: sync, availability, object counts, last-event age', async (t) => {
  const informers: InformerStatus[] = [
    { resource: 'nodes', available: true, synced: true, objects: 5000, lastEventAt: NOW - 12_500 },
    { resource: 'machineconfigs', available: false, synced: false, objects: 0 },
  ];
  const { scrape } = setup(informers);
  let { values } = await scrape();
  t.equal(values.get('sctp_guard_informer_synced{resource="nodes"}'), 1);
  t.equal(values.get('sctp_guard_informer_available{resource="nodes"}'), 1);
  t.equal(values.get('sctp_guard_informer_objects{resource="nodes"}'), 5000);
  t.equal(values.get('sctp_guard_informer_last_event_age_seconds{resource="nodes"}'), 12.5);
  t.equal(values.get('sctp_guard_informer_synced{resource="machineconfigs"}'), 0);
  t.equal(values.get('sctp_guard_informer_available{resource="machineconfigs"}'), 0);
  t.notOk(
    values.has('sctp_guard_informer_last_event_age_seconds{resource="machineconfigs"}'),
    'no age before the first event',
  );

  informers.pop();
  informers[0] = { ...informers[0]!, objects: 4999 };
  ({ values } = await scrape());
  t.equal(values.get('sctp_guard_informer_objects{resource="nodes"}'), 4999, 'read fresh on every scrape');
  t.notOk(
    values.has('sctp_guard_informer_synced{resource="machineconfigs"}'),
    'a resource no longer reported disappears',
  );
});

t.test('serving certificate expiry and reload outcomes', async (t) => {
  const { metrics, certificate, scrape } = setup();
  metrics.observeCertificateReload('reloaded');
  metrics.observeCertificateReload('rejected');
  metrics.observeCertificateReload('rejected');
  const { values } = await scrape();
  t.equal(values.get('sctp_guard_serving_certificate_expiry_timestamp_seconds'), certificate.notAfter.getTime() / 1000);
  t.ok(certificate.notAfter.getTime() > Date.now() + 300 * 86_400_000, 'the dev certificate lasts a year');
  t.equal(values.get('sctp_guard_certificate_reloads_total{result="reloaded"}'), 1);
  t.equal(values.get('sctp_guard_certificate_reloads_total{result="rejected"}'), 2);
});

t.test('each server has its own registry; process metrics only when asked for', async (t) => {
  const a = new ServerMetrics();
  const b = new ServerMetrics({ processMetrics: true });
  t.notMatch(await a.render(), /process_resident_memory_bytes/);
  t.match(await b.render(), /process_resident_memory_bytes/);
  t.match(await b.render(), /nodejs_eventloop_lag_seconds/);
});

t.test('decisions counted between scrapes give the exposition of counting each one as it comes', async (t) => {
  const recordArb = fc.record({
    phase: fc.constantFrom('validate' as const, 'mutate' as const),
    kind: fc.constantFrom('Service', 'Pod', 'MachineConfig'),
    operation: fc.constantFrom('CREATE', 'UPDATE'),
    decision: fc.constantFrom('allow' as const, 'warn' as const, 'deny' as const),
    rules: fc.array(
      fc.record({
        rule: fc.constantFrom('sctp-service-type', 'sctp-module-loaded'),
        decision: fc.constantFrom('allow', 'warn', 'deny'),
      }),
      { maxLength: 2 },
    ),
    latencyMs: fc.double({ min: 0, max: 2000, noNaN: true }),
  });
  // Runs of records with a scrape after each: long enough to fill a batch of observations, and then some.
  const runs = fc.array(fc.array(recordArb, { maxLength: OBSERVATION_BATCH * 2 + 5 }), { minLength: 1, maxLength: 4 });
  await fc.assert(
    fc.asyncProperty(runs, async (runs) => {
      const metrics = new ServerMetrics();
      // The oracle: prom-client's own metrics, each decision counted at once.
      const registry = new Registry();
      const requests = new Counter({
        name: 'sctp_guard_admission_requests_total',
        help: 'h',
        labelNames: ['phase', 'kind', 'operation', 'decision'],
        registers: [registry],
      });
      const rules = new Counter({
        name: 'sctp_guard_rule_results_total',
        help: 'h',
        labelNames: ['phase', 'kind', 'operation', 'rule', 'decision'],
        registers: [registry],
      });
      const latency = new Histogram({
        name: 'sctp_guard_admission_duration_seconds',
        help: 'h',
        labelNames: ['phase', 'decision'],
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      });
      const lines = (text: string) =>
        text
          .split('\n')
          .filter((l) => /^sctp_guard_(admission_requests_total|rule_results_total|admission_duration_seconds)/.test(l))
          .sort();
      for (const run of runs) {
        for (const r of run) {
          metrics.observeDecision(r as unknown as AuditRecord);
          const { phase, kind, operation, decision } = r;
          requests.inc({ phase, kind, operation, decision });
          for (const x of r.rules) rules.inc({ phase, kind, operation, rule: x.rule, decision: x.decision });
          latency.observe({ phase, decision }, r.latencyMs / 1000);
        }
        t.same(lines(await metrics.render()), lines(await registry.metrics()));
      }
    }),
    { numRuns: 60 },
  );
});
