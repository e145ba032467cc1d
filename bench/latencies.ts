import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LoadTarget {
  port: number;
  ca: Buffer;
}

export interface LoadSettings {
  seconds: number;
  /** HTTP/1.1: keep-alive connections; HTTP/2: concurrent streams on one connection. */
  concurrency: number;
  /** HTTP/1.1 only: requests per second over all connections, sent at even intervals (runPacedLoad). */
  rate?: number;
}

export interface LatencyMs {
  mean: number;
  p50: number;
  p99: number;
  p99_9: number;
  max: number;
}

export interface LoadResult {
  /** 2xx answers received. */
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: LatencyMs;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * Latency per answer, in microseconds: autocannon's own histogram counts whole milliseconds, too coarse for
 * answers that take a fraction of one.
 */
export class Latencies {
  private readonly histogram: RecordableHistogram = createHistogram();
  record(ms: number): void {
    this.histogram.record(Math.max(1, Math.round(ms * 1000)));
  }
  reset(): void {
    this.histogram.reset();
  }
  get count(): number {
    return this.histogram.count;
  }
  summary(): LatencyMs {
    const h = this.histogram;
    const ms = (us: number) => (h.count === 0 ? 0 : us / 1000);
    return {
      mean: ms(h.mean),
      p50: ms(h.percentile(50)),
      p99: ms(h.percentile(99)),
      p99_9: ms(h.percentile(99.9)),
      max: ms(h.max),
    };
  }
}

export function result(
  latencies: Latencies,
  seconds: number,
  counts: { errors: number; timeouts: number; non2xx: number },
): LoadResult {
  return {
    requests: latencies.count,
    seconds,
    rps: latencies.count / seconds,
    latencyMs: latencies.summary(),
    ...counts,
  };
}
