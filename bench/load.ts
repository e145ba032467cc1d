import autocannon from 'autocannon';
import { connect, constants } from 'node:http2';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Latencies, result, type LoadResult, type LoadSettings, type LoadTarget } from './latencies.js';
import type { BenchRequest } from './mix.js';
import type { PacedJob } from './paced-client.js';

export type { LoadResult, LoadSettings, LoadTarget } from './latencies.js';

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
  const job: PacedJob = { target, wire, settings };
  const worker = new Worker(new URL('./paced-client.js', import.meta.url), { workerData: job });
  try {
    const [answer] = (await once(worker, 'message')) as [LoadResult];
    return answer;
  } finally {
    await worker.terminate();
  }
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
