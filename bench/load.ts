import autocannon from 'autocannon';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
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

/** One HTTP/1.1 answer read off a socket: the status code once the body (Content-Length bytes) is in. */
class AnswerReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Feeds received bytes; returns the status of each answer they complete (keep-alive: one at a time). */
  feed(chunk: Buffer): number[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const statuses: number[] = [];
    for (;;) {
      const headEnd = this.pending.indexOf('\r\n\r\n');
      if (headEnd < 0) return statuses;
      const head = this.pending.toString('latin1', 0, headEnd);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      // Every answer of sctp-guard and of the bare server carries a Content-Length; anything else is a failure.
      if (length === undefined) throw new Error(`answer without Content-Length: ${head.split('\r\n')[0]}`);
      const end = headEnd + 4 + Number(length);
      if (this.pending.length < end) return statuses;
      statuses.push(Number(head.slice(9, 12)));
      this.pending = this.pending.subarray(end);
    }
  }
}

/**
 * HTTP/1.1 at a fixed rate, the way wrk2 paces: request i is due at start + i/rate whatever happened before, and
 * its latency counts from when it was due, so a stall shows as the latency of every request it held up
 * (autocannon's own rate limit sends each second's quota back to back and then waits: a burst, not a rate).
 * At most `concurrency` keep-alive connections; requests due while all are busy wait for one, on the clock.
 *
 * The client is as lean as wrk's: raw TLS sockets, each request's bytes built once, answers read by
 * Content-Length. Node's https client cost 100–200 µs of CPU per request in this same process, and its timers
 * and object churn showed up as milliseconds of the servers' p99 (the bare server's p99 at 500 req/s was 3.5 ms
 * for a 60 µs answer).
 */
export async function runPacedLoad(
  target: LoadTarget,
  requests: readonly BenchRequest[],
  settings: LoadSettings & { rate: number },
): Promise<LoadResult> {
  const wire = requests.map((r) => {
    const body = Buffer.from(r.body);
    const headers = Object.entries({ ...r.headers, 'content-length': String(body.length) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    return Buffer.concat([Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}\r\n`), body]);
  });
  const latencies = new Latencies();
  const counts = { errors: 0, timeouts: 0, non2xx: 0 };

  interface Connection {
    socket: TLSSocket;
    reader: AnswerReader;
    /** When the request in flight was due; undefined while the connection is idle. */
    due?: number;
    timer?: NodeJS.Timeout;
  }
  /** Requests due while every connection was busy, oldest first. */
  const waiting: Array<{ index: number; due: number }> = [];
  const idle: Connection[] = [];
  let inFlight = 0;
  let alive = settings.concurrency;
  let allSent = false;
  let drained: (() => void) | undefined;

  const send = (c: Connection, index: number, due: number) => {
    c.due = due;
    inFlight++;
    c.timer = setTimeout(() => {
      counts.timeouts++;
      c.socket.destroy();
    }, 10_000);
    c.socket.write(wire[index % wire.length]!);
  };
  const finish = (c: Connection, status: number | undefined) => {
    clearTimeout(c.timer);
    const due = c.due!;
    c.due = undefined;
    inFlight--;
    if (status === undefined) counts.errors++;
    else if (status >= 200 && status < 300) latencies.record(performance.now() - due);
    else counts.non2xx++;
    if (status !== undefined) {
      const next = waiting.shift();
      if (next) send(c, next.index, next.due);
      else idle.push(c);
    }
    if (allSent && inFlight === 0 && waiting.length === 0) drained?.();
  };
  const open = () =>
    new Promise<Connection>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: target.port, ca: target.ca, ALPNProtocols: ['http/1.1'] });
      socket.setNoDelay(true);
      const c: Connection = { socket, reader: new AnswerReader() };
      socket.once('secureConnect', () => resolve(c));
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => {
        try {
          for (const status of c.reader.feed(chunk)) finish(c, status);
        } catch {
          socket.destroy();
        }
      });
      // A connection lost mid-request is an error for that request, and the pool is one connection short; with
      // none left, what waits is an error too.
      socket.on('close', () => {
        alive--;
        const index = idle.indexOf(c);
        if (index >= 0) idle.splice(index, 1);
        if (alive === 0) counts.errors += waiting.splice(0).length;
        if (c.due !== undefined) finish(c, undefined);
        else if (allSent && inFlight === 0 && waiting.length === 0) drained?.();
      });
    });
  const phase = (schedule: () => Promise<void>) =>
    new Promise<void>((resolve) => {
      allSent = false;
      drained = resolve;
      void schedule().then(() => {
        allSent = true;
        if (inFlight === 0 && waiting.length === 0) resolve();
      });
    });
  const dispatch = (index: number, due: number) => {
    const c = idle.pop();
    if (c) send(c, index, due);
    else if (alive > 0) waiting.push({ index, due });
    else counts.errors++;
  };

  // The connections first (TLS handshakes and one request each), off the clock: a phase measures answers.
  idle.push(...(await Promise.all(Array.from({ length: settings.concurrency }, open))));
  await phase(async () => {
    for (let k = 0; k < settings.concurrency; k++) dispatch(k, performance.now());
  });
  latencies.reset();
  Object.assign(counts, { errors: 0, timeouts: 0, non2xx: 0 });

  const total = Math.max(1, Math.round(settings.rate * settings.seconds));
  const interval = 1000 / settings.rate;
  const started = performance.now();
  await phase(async () => {
    for (let i = 0; i < total;) {
      const now = performance.now();
      for (; i < total && started + i * interval <= now; i++) dispatch(i, started + i * interval);
      if (i < total) await sleep(Math.max(0, Math.min(1, started + i * interval - performance.now())));
    }
  });
  const seconds = (performance.now() - started) / 1000;
  for (const c of idle) c.socket.destroy();
  return result(latencies, seconds, counts);
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
