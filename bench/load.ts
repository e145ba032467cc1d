import autocannon from 'autocannon';
import { Agent, request } from 'node:https';
import { connect, constants } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { BenchRequest } from './mix.js';

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
class Latencies {
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

function result(
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

/**
 * HTTP/1.1 at a fixed rate, the way wrk2 paces: request i is due at start + i/rate whatever happened before, and
 * its latency counts from when it was due, so a stall shows as the latency of every request it held up
 * (autocannon's own rate limit sends each second's quota back to back and then waits: a burst, not a rate).
 * At most `concurrency` keep-alive connections; requests due while all are busy wait for one, on the clock.
 */
export async function runPacedLoad(
  target: LoadTarget,
  requests: readonly BenchRequest[],
  settings: LoadSettings & { rate: number },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency, ca: target.ca });
  const latencies = new Latencies();
  const counts = { errors: 0, timeouts: 0, non2xx: 0 };
  const total = Math.max(1, Math.round(settings.rate * settings.seconds));
  const interval = 1000 / settings.rate;
  const inFlight = new Set<Promise<void>>();
  const send = (r: BenchRequest, due: number) => {
    const done = new Promise<void>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: target.port,
          method: r.method,
          path: r.path,
          headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
          agent,
          timeout: 10_000,
        },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) latencies.record(performance.now() - due);
            else counts.non2xx++;
            resolve();
          });
        },
      );
      req.on('timeout', () => {
        counts.timeouts++;
        req.destroy();
      });
      req.on('error', () => {
        counts.errors++;
        resolve();
      });
      req.end(r.body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  // The connections first (TLS handshakes), off the clock: a phase measures answers, not connection set-up.
  for (let k = 0; k < settings.concurrency; k++) send(requests[k % requests.length]!, performance.now());
  await Promise.all(inFlight);
  latencies.reset();
  Object.assign(counts, { errors: 0, timeouts: 0, non2xx: 0 });
  const started = performance.now();
  for (let i = 0; i < total;) {
    const now = performance.now();
    for (; i < total && started + i * interval <= now; i++)
      send(requests[i % requests.length]!, started + i * interval);
    if (i < total) await sleep(Math.max(0, Math.min(1, started + i * interval - performance.now())));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return result(latencies, (performance.now() - started) / 1000, counts);
}

/** HTTP/1.1 keep-alive load from autocannon: fixed connections, fixed duration, no pipelining. */
export async function runHttp1Load(
  target: LoadTarget,
  requests: readonly BenchRequest[],
  settings: LoadSettings,
): Promise<LoadResult> {
  if (settings.rate) return runPacedLoad(target, requests, { ...settings, rate: settings.rate });
  const latencies = new Latencies();
  const started = performance.now();
  const options: autocannon.Options = {
    url: `https://127.0.0.1:${target.port}`,
    connections: settings.concurrency,
    pipelining: 1,
    duration: settings.seconds,
    // autocannon checks for the end of the run once per sample interval (1 s by default): keep phases on time.
    sampleInt: Math.min(1000, settings.seconds * 100),
    timeout: 10,
    tlsOptions: { ca: target.ca },
    requests: requests.map(({ method, path, headers, body }) => ({ method, path, headers, body })),
  };
  const out = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err, res) => (err ? reject(err as Error) : resolve(res)));
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTime);
    });
  });
  return result(latencies, (performance.now() - started) / 1000, {
    errors: out.errors,
    timeouts: out.timeouts,
    non2xx: out.non2xx,
  });
}

/**
 * HTTP/2 load: `concurrency` streams kept in flight on one TLS connection, as the API server's webhook client
 * multiplexes its calls. autocannon speaks HTTP/1.1 only, hence this small closed loop on node:http2.
 */
export async function runHttp2Load(
  target: LoadTarget,
  requests: readonly BenchRequest[],
  settings: LoadSettings,
): Promise<LoadResult> {
  const session = connect(`https://127.0.0.1:${target.port}`, { ca: target.ca, servername: 'localhost' });
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
  const latencies = new Latencies();
  const counts = { errors: 0, timeouts: 0, non2xx: 0 };
  const started = performance.now();
  const deadline = started + settings.seconds * 1000;
  const one = (r: BenchRequest) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: r.method,
        [constants.HTTP2_HEADER_PATH]: r.path,
        ...r.headers,
      });
      let status = 0;
      stream.setTimeout(10_000, () => {
        counts.timeouts++;
        stream.close(constants.NGHTTP2_CANCEL);
      });
      stream.on('response', (headers) => (status = Number(headers[constants.HTTP2_HEADER_STATUS])));
      stream.on('data', () => {});
      stream.on('error', () => counts.errors++);
      stream.on('close', () => {
        if (status >= 200 && status < 300) latencies.record(performance.now() - t0);
        else if (status > 0) counts.non2xx++;
        resolve();
      });
      stream.end(r.body);
    });
  await Promise.all(
    Array.from({ length: settings.concurrency }, async (_, k) => {
      for (let i = k; performance.now() < deadline; i += settings.concurrency)
        await one(requests[i % requests.length]!);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await new Promise<void>((resolve) => session.close(() => resolve()));
  return result(latencies, seconds, counts);
}
