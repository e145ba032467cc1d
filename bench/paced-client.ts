/**
 * The paced HTTP/1.1 client of the bench (runPacedLoad), run in a worker thread: its own small heap, so that the
 * garbage collections of the bench process (which holds generated cluster states of hundreds of MB) do not stall
 * its clock and show up as the servers' latency.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Latencies, result, type LoadResult, type LoadSettings, type LoadTarget } from './latencies.js';

/** What runPacedLoad hands the worker: each request's bytes, built once. */
export interface PacedJob {
  target: LoadTarget;
  wire: Uint8Array[];
  settings: LoadSettings & { rate: number };
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

/** runPacedLoad's loop (bench/load.ts says how it paces and what it counts). */
async function pacedLoad({ target, wire, settings }: PacedJob): Promise<LoadResult> {
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

if (parentPort) {
  const job = workerData as PacedJob;
  job.target.ca = Buffer.from(job.target.ca);
  parentPort.postMessage(await pacedLoad(job));
}
