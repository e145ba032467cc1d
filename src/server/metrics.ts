import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { InformerStatus } from '../cluster/informers.js';
import { WEBHOOK_PATHS } from '../admission/webhook-config.js';
import type { AuditRecord } from './audit-record.js';
import { KINDS } from '../util/kinds.js';
import type { ServingCertificate } from './cert-reload.js';

/** What /metrics reads at scrape time; each source is optional (offline mode has no informers). */
export interface MetricsSources {
  informers?: () => InformerStatus[];
  /** The snapshot decisions read: its age and staleness (live state only). */
  snapshot?: () => ClusterSnapshot;
  certificate?: () => ServingCertificate;
  /** Process metrics (CPU, RSS, event-loop lag, GC): on in the server, off where a test builds many registries. */
  processMetrics?: boolean;
  now?: () => number;
}

/** The endpoint buildApp mounts as GET /metrics. */
export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

/** Decisions take well under a millisecond; the API server gives up at timeoutSeconds (5 s by default). */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];
/** Anything else is `other`: a label taken from the raw URL would let any client grow the registry without bound. */
const ROUTES: ReadonlySet<string> = new Set(Object.values(WEBHOOK_PATHS));
/**
 * Label values come from closed sets only: `request.kind.kind` is whatever the client wrote (1 MB kinds held
 * every label forever and made one scrape 105 MB), so a kind outside the registry is `other`, as is anything
 * else not in these sets.
 */
const KIND_LABELS: ReadonlySet<string> = new Set(Object.values(KINDS).map((k) => k.kind));
const OPERATION_LABELS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const closed = (set: ReadonlySet<string>, value: string): string => (set.has(value) ? value : 'other');

/** Prometheus metrics (prom-client) of the admission server: its own registry, no global state. */
export class ServerMetrics implements MetricsEndpoint {
  readonly registry = new Registry();
  private readonly decisions = new PendingDecisions();
  private readonly latency: PendingObservations;
  private readonly badRequests: Counter<'route' | 'code'>;
  private readonly certReloads: Counter<'result'>;

  constructor(sources: MetricsSources = {}) {
    const registers = [this.registry];
    const now = sources.now ?? Date.now;
    const decisions = this.decisions;
    new Counter({
      name: 'sctp_guard_admission_requests_total',
      help: 'AdmissionReviews answered, by phase, object kind, operation and final decision (allow, warn, deny).',
      labelNames: ['phase', 'kind', 'operation', 'decision'],
      registers,
      collect() {
        decisions.flushRequests(this);
      },
    });
    new Counter({
      name: 'sctp_guard_rule_results_total',
      help: 'Rule outcomes within AdmissionReviews, by rule and its decision (allow, warn, deny, audit, error).',
      labelNames: ['phase', 'kind', 'operation', 'rule', 'decision'],
      registers,
      collect() {
        decisions.flushRules(this);
      },
    });
    const latency = new PendingObservations(
      new Histogram({
        name: 'sctp_guard_admission_duration_seconds',
        help: 'Time from a decoded AdmissionReview to its decision (rules, snapshot read, audit record).',
        labelNames: ['phase', 'decision'],
        buckets: LATENCY_BUCKETS,
        registers,
        collect() {
          latency.flush();
        },
      }),
    );
    this.latency = latency;
    this.badRequests = new Counter({
      name: 'sctp_guard_bad_requests_total',
      help: 'Requests refused before any rule ran (malformed JSON, not an AdmissionReview, too large), by route and HTTP status.',
      labelNames: ['route', 'code'],
      registers,
    });
    this.certReloads = new Counter({
      name: 'sctp_guard_certificate_reloads_total',
      help: 'Serving certificate changes on disk: reloaded, or rejected (the old pair stays in use).',
      labelNames: ['result'],
      registers,
    });
    // Scalar gauges read at scrape time from in-memory state.
    const scalar = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    const { certificate, snapshot } = sources;
    if (certificate) {
      scalar(
        'sctp_guard_serving_certificate_expiry_timestamp_seconds',
        'notAfter of the serving certificate in use, in seconds since the epoch.',
        () => certificate().notAfter.getTime() / 1000,
      );
    }
    if (sources.informers) this.informerGauges(sources.informers, now);
    if (snapshot) {
      scalar(
        'sctp_guard_cluster_state_age_seconds',
        'Seconds since the cluster state the decisions read was last known current (0 while informers are healthy).',
        () => snapshot().ageSeconds,
      );
      scalar(
        'sctp_guard_cluster_state_stale',
        '1 when decisions treat node state as unknown (not synced, or older than stalenessLimitSeconds).',
        () => Number(snapshot().stale),
      );
    }
    if (sources.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  private informerGauges(informers: () => InformerStatus[], now: () => number): void {
    const registers = [this.registry];
    // One status() call per gauge per scrape: it is an in-memory read.
    const gauge = (name: string, help: string, value: (s: InformerStatus) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['resource'],
        registers,
        collect() {
          this.reset();
          for (const s of informers()) {
            const v = value(s);
            if (v !== undefined) this.set({ resource: s.resource }, v);
          }
        },
      });
    gauge(
      'sctp_guard_informer_available',
      '1 when the resource exists in the cluster (0: e.g. no MachineConfig CRD on plain Kubernetes).',
      (s) => Number(s.available),
    );
    gauge('sctp_guard_informer_synced', '1 once the informer has listed the resource and is watching it.', (s) =>
      Number(s.synced),
    );
    gauge('sctp_guard_informer_objects', 'Objects in the informer cache.', (s) => s.objects);
    gauge(
      'sctp_guard_informer_last_event_age_seconds',
      'Seconds since the informer last received an event or a list; absent before the first.',
      (s) => (s.lastEventAt === undefined ? undefined : Math.max(0, (now() - s.lastEventAt) / 1000)),
    );
  }

  /** AppOptions.onDecision. */
  readonly observeDecision = (record: AuditRecord): void => {
    const { phase, decision } = record;
    const kind = closed(KIND_LABELS, record.kind);
    const operation = closed(OPERATION_LABELS, record.operation);
    this.decisions.add(phase, kind, operation, decision, record.rules);
    this.latency.add(phase, decision, record.latencyMs / 1000);
  };

  /** AppOptions.onBadRequest. */
  readonly observeBadRequest = (route: string, statusCode: number): void => {
    this.badRequests.inc({ route: ROUTES.has(route) ? route : 'other', code: String(statusCode) });
  };

  /** CertificateReloaderOptions.onResult. */
  readonly observeCertificateReload = (result: 'reloaded' | 'rejected'): void => {
    this.certReloads.inc({ result });
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The increments pending for one phase, kind and operation. */
interface ClassCounts {
  readonly labels: { phase: string; kind: string; operation: string };
  /** decision → count. */
  readonly decisions: Map<string, number>;
  /** rule → its decision → count. */
  readonly rules: Map<string, Map<string, number>>;
}

/**
 * The two decision counters' increments, kept between scrapes and added to the prom-client counters when they are
 * collected: a request costs a lookup per label value and allocates nothing once its labels were seen (prom-client
 * validates and hashes the labels on every increment, and a key joined from the values was a string per request).
 * The label values come from closed sets, which bound the maps.
 */
class PendingDecisions {
  /** phase → kind → operation. */
  private readonly classes = new Map<string, Map<string, Map<string, ClassCounts>>>();

  add(phase: string, kind: string, operation: string, decision: string, rules: AuditRecord['rules']): void {
    const counts = this.classOf(phase, kind, operation);
    increment(counts.decisions, decision);
    for (const r of rules) {
      let byDecision = counts.rules.get(r.rule);
      if (!byDecision) counts.rules.set(r.rule, (byDecision = new Map()));
      increment(byDecision, r.decision);
    }
  }

  flushRequests(counter: Counter<'phase' | 'kind' | 'operation' | 'decision'>): void {
    for (const { labels, decisions } of this.all()) {
      for (const [decision, n] of decisions) counter.inc({ ...labels, decision }, n);
      decisions.clear();
    }
  }

  flushRules(counter: Counter<'phase' | 'kind' | 'operation' | 'rule' | 'decision'>): void {
    for (const { labels, rules } of this.all()) {
      for (const [rule, byDecision] of rules)
        for (const [decision, n] of byDecision) counter.inc({ ...labels, rule, decision }, n);
      rules.clear();
    }
  }

  private classOf(phase: string, kind: string, operation: string): ClassCounts {
    let byKind = this.classes.get(phase);
    if (!byKind) this.classes.set(phase, (byKind = new Map()));
    let byOperation = byKind.get(kind);
    if (!byOperation) byKind.set(kind, (byOperation = new Map()));
    let counts = byOperation.get(operation);
    if (!counts) {
      counts = { labels: { phase, kind, operation }, decisions: new Map(), rules: new Map() };
      byOperation.set(operation, counts);
    }
    return counts;
  }

  private *all(): Generator<ClassCounts> {
    for (const byKind of this.classes.values()) for (const byOperation of byKind.values()) yield* byOperation.values();
  }
}

/** The most observations held per label set before they go to the histogram. */
export const OBSERVATION_BATCH = 64;

/**
 * Latency observations held in a small buffer per label set and handed to the prom-client histogram in a batch,
 * when the buffer is full and when the histogram is collected: prom-client validates and hashes the labels on every
 * observe, which in a batch runs as a warm loop instead of once per request. The buffers bound the memory.
 */
class PendingObservations {
  /** phase → decision. */
  private readonly cells = new Map<string, Map<string, { labels: Labels; values: Float64Array; n: number }>>();

  constructor(private readonly histogram: Histogram<'phase' | 'decision'>) {}

  add(phase: string, decision: string, value: number): void {
    let byDecision = this.cells.get(phase);
    if (!byDecision) this.cells.set(phase, (byDecision = new Map()));
    let cell = byDecision.get(decision);
    if (!cell) {
      cell = { labels: { phase, decision }, values: new Float64Array(OBSERVATION_BATCH), n: 0 };
      byDecision.set(decision, cell);
    }
    cell.values[cell.n++] = value;
    if (cell.n === OBSERVATION_BATCH) this.observe(cell);
  }

  flush(): void {
    for (const byDecision of this.cells.values()) for (const cell of byDecision.values()) this.observe(cell);
  }

  private observe(cell: { labels: Labels; values: Float64Array; n: number }): void {
    for (let i = 0; i < cell.n; i++) this.histogram.observe(cell.labels, cell.values[i]!);
    cell.n = 0;
  }
}

type Labels = Record<'phase' | 'decision', string>;

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
