/**
 * `npm run bench -- --after-idle`: what the admission handler's own work costs, stage by stage, back to back and
 * after a 1 ms wait, in one process. A server that is not saturated takes each request after a wait, with its code
 * and data no longer in the CPU's caches: the same work then costs several times more, in sctp-guard and in the bare
 * server alike (docs/benchmark.md, issue 25's fifth round). The two servers' work alternates request by request:
 * sctp-guard's stages (body parse, the engine and its rules, the audit record and line, metrics, the answer) on the
 * bench's 10-node cluster state, and the bare server's (body parse, its constant answer).
 */
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { review } from '../src/admission/review.js';
import { rulesForWebhook } from '../src/admission/webhook-config.js';
import { commandPolicy } from '../src/cli/options.js';
import { loadClusterState } from '../src/cluster/offline.js';
import { Engine, type Phase } from '../src/engine/engine.js';
import { ALL_RULES } from '../src/rules/index.js';
import { auditRecord } from '../src/server/audit-record.js';
import { createLogger, infoLineWriter } from '../src/server/logger.js';
import { ServerMetrics } from '../src/server/metrics.js';
import { writeClusterState } from './cluster-state.js';
import type { BenchOptions } from './harness.js';
import { constantAllow } from './constant-allow.js';
import { buildRequests, loadMixes, type MixName } from './mix.js';
import { repoRoot } from './repo.js';

/** sctp-guard's stages, in the order the route handler runs them. */
export const STAGES = ['body parse', 'engine and rules', 'audit record', 'audit line', 'metrics', 'answer'] as const;
type Stage = (typeof STAGES)[number];

const CONDITIONS = ['back to back', 'after 1 ms idle'] as const;
type Condition = (typeof CONDITIONS)[number];

/** Mean and median of one stage under one condition, in µs. */
export interface StageTime {
  mean: number;
  p50: number;
}

export interface AfterIdleMix {
  mix: MixName;
  requests: number;
  /** condition → stage → time. */
  guard: Record<Condition, Record<Stage, StageTime>>;
  /** condition → the bare server's whole work per request. */
  bare: Record<Condition, StageTime>;
  /** The answers' mean length in characters, sctp-guard's and the bare server's (what the socket write then carries). */
  answerChars: { guard: number; bare: number };
}

const NODES = 10;
const IDLE_MS = 1;
/** Requests of warm-up per measured request of a condition. */
const WARM_UP_ROUNDS = 20;

export async function runAfterIdle(options: BenchOptions, log: (line: string) => void): Promise<AfterIdleMix[]> {
  const work = mkdtempSync(join(tmpdir(), 'sctp-guard-after-idle-'));
  const devNull = openSync('/dev/null', 'w');
  const logger = createLogger('info', devNull);
  try {
    const stateDir = join(work, 'state');
    writeClusterState(stateDir, {
      nodes: NODES,
      renderedConfigs: options.renderedConfigs,
      renderedConfigBytes: options.renderedConfigKiB * 1024,
      seed: options.seed,
    });
    const snapshot = loadClusterState(stateDir);
    const policy = commandPolicy(undefined, undefined);
    const engine = new Engine(rulesForWebhook(ALL_RULES, policy), policy);
    const audit = infoLineWriter(logger, 'admission decision');
    const metrics = new ServerMetrics();
    const mixes = loadMixes(join(repoRoot(), 'examples'));
    // As many requests per condition as the phase's seconds allow at one per millisecond of idle, and no fewer than 50.
    const requests = Math.max(50, Math.round(options.seconds * 400));
    const out: AfterIdleMix[] = [];
    for (const mix of options.mixes) {
      const phase: Phase = mix === 'machineconfigs' ? 'mutate' : 'validate';
      const bodies = buildRequests(mixes[mix], 4).map((r) => r.body);
      // Lists made before the first request: nothing is allocated between two timed stages for the bookkeeping.
      const answerChars = { guard: 0, bare: 0 };
      const samples = Object.fromEntries(
        CONDITIONS.map((c) => [c, Object.fromEntries([...STAGES, 'bare'].map((s) => [s, [] as number[]]))]),
      ) as Record<Condition, Record<Stage | 'bare', number[]>>;
      const guard = (body: string, condition?: Condition) => {
        const t0 = process.hrtime.bigint();
        const parsed = JSON.parse(body) as Parameters<typeof review>[0];
        const t1 = process.hrtime.bigint();
        const answer = review(parsed, engine, snapshot, phase);
        const t2 = process.hrtime.bigint();
        const line = auditRecord({
          clusterStateAgeSeconds: snapshot.ageSeconds,
          uid: parsed.request.uid,
          phase,
          request: answer.request,
          decision: answer.decision,
          user: parsed.request.userInfo?.username ?? '',
          name: parsed.request.name,
          latencyMs: Number(t2 - t0) / 1e6,
        });
        const t3 = process.hrtime.bigint();
        audit(line);
        const t4 = process.hrtime.bigint();
        metrics.observeDecision(line);
        const t5 = process.hrtime.bigint();
        answerChars.guard += JSON.stringify(answer.review).length;
        const t6 = process.hrtime.bigint();
        if (!condition) return;
        const marks = [t0, t1, t2, t3, t4, t5, t6];
        STAGES.forEach((stage, i) => samples[condition][stage].push(Number(marks[i + 1]! - marks[i]!) / 1000));
      };
      // bench/baseline.ts's handler: the body parsed, the constant allow with the request's uid.
      const bare = (body: string, condition?: Condition) => {
        const t0 = process.hrtime.bigint();
        const uid = (JSON.parse(body) as { request?: { uid?: string } }).request?.uid ?? '';
        answerChars.bare += constantAllow(uid).length;
        if (condition) samples[condition].bare.push(Number(process.hrtime.bigint() - t0) / 1000);
      };
      // Warm: the code optimized, as in a server that has been answering for a while.
      for (let i = 0; i < WARM_UP_ROUNDS * requests; i++) {
        guard(bodies[i % bodies.length]!);
        bare(bodies[i % bodies.length]!);
      }
      for (const condition of CONDITIONS) {
        for (let i = 0; i < requests; i++) {
          const body = bodies[i % bodies.length]!;
          for (const run of i % 2 === 0 ? [guard, bare] : [bare, guard]) {
            if (condition === 'after 1 ms idle') await new Promise((r) => setTimeout(r, IDLE_MS));
            run(body, condition);
          }
        }
      }
      const byStage = (condition: Condition) =>
        Object.fromEntries(STAGES.map((s) => [s, summary(samples[condition][s])])) as Record<Stage, StageTime>;
      const result: AfterIdleMix = {
        mix,
        requests,
        guard: { 'back to back': byStage('back to back'), 'after 1 ms idle': byStage('after 1 ms idle') },
        bare: {
          'back to back': summary(samples['back to back'].bare),
          'after 1 ms idle': summary(samples['after 1 ms idle'].bare),
        },
        // Every request, warm-up included, was answered by both.
        answerChars: {
          guard: answerChars.guard / ((WARM_UP_ROUNDS + CONDITIONS.length) * requests),
          bare: answerChars.bare / ((WARM_UP_ROUNDS + CONDITIONS.length) * requests),
        },
      };
      const total = (c: Condition) => STAGES.reduce((n, s) => n + result.guard[c][s].mean, 0);
      log(
        `after idle, ${mix}: sctp-guard ${total('back to back').toFixed(1)} → ${total('after 1 ms idle').toFixed(1)} µs, bare ${result.bare['back to back'].mean.toFixed(1)} → ${result.bare['after 1 ms idle'].mean.toFixed(1)} µs`,
      );
      out.push(result);
    }
    return out;
  } finally {
    // What the trail still holds is written before its file is closed.
    logger.flush();
    closeSync(devNull);
    rmSync(work, { recursive: true, force: true });
  }
}

export function summary(values: readonly number[]): StageTime {
  if (values.length === 0) return { mean: 0, p50: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, p50: sorted[sorted.length >> 1]! };
}

/** The table per mix: each stage's mean (median) back to back and after 1 ms idle, the totals, and their ratio. */
export function afterIdleMarkdown(results: readonly AfterIdleMix[]): string {
  const cell = (t: StageTime) => `${t.mean.toFixed(2)} (${t.p50.toFixed(2)})`;
  const lines = [
    `**After a wait** (\`--after-idle\`: the handler's work in one process, ${NODES}-node cluster state, µs per request, mean (median); the two servers' work alternating request by request):`,
    '',
  ];
  for (const r of results) {
    const [warm, cold] = CONDITIONS;
    const total = (c: Condition) => STAGES.reduce((n, s) => n + r.guard[c][s].mean, 0);
    lines.push(
      `| ${r.mix} (${r.requests} requests each; answers of ${Math.round(r.answerChars.guard)} characters, bare ${Math.round(r.answerChars.bare)}) | ${warm} | ${cold} | ${cold} ÷ ${warm} |`,
      '|---|---:|---:|---:|',
      ...STAGES.map(
        (s) =>
          `| ${s} | ${cell(r.guard[warm][s])} | ${cell(r.guard[cold][s])} | ${ratio(r.guard[cold][s].mean, r.guard[warm][s].mean)} |`,
      ),
      `| **sctp-guard, all stages** | ${total(warm).toFixed(2)} | ${total(cold).toFixed(2)} | ${ratio(total(cold), total(warm))} |`,
      `| **bare server** (body parse, constant answer) | ${cell(r.bare[warm])} | ${cell(r.bare[cold])} | ${ratio(r.bare[cold].mean, r.bare[warm].mean)} |`,
      `| **sctp-guard − bare** | ${(total(warm) - r.bare[warm].mean).toFixed(2)} | ${(total(cold) - r.bare[cold].mean).toFixed(2)} | |`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : 'n/a');
