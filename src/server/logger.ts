import { pino, type Logger } from 'pino';

/** pino's levels (`serve --log-level`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

let stampMs = Number.NaN;
let stamp = '';
let secondMs = Number.NaN;
/** `,"time":"2026-12-08T01:02:03.` of the second that starts at secondMs. */
let secondHead = '';
/**
 * pino's isoTime (`,"time":"<ISO 8601>"`), the string built once per millisecond, and its date and time of day
 * once per second: thousands of decisions a second share a few hundred stamps, and a Date with its toISOString was
 * 1.5% of the server's busy time in the profile (at a few hundred requests a second, every request paid it).
 */
function time(): string {
  return timeField(Date.now());
}

/** time() at `now` (ms since the epoch): what pino's isoTime writes. */
export function timeField(now: number): string {
  if (now !== stampMs) {
    stampMs = now;
    const ms = now % 1000;
    if (now - ms !== secondMs) {
      secondMs = now - ms;
      secondHead = `,"time":"${new Date(secondMs).toISOString().slice(0, 20)}`;
    }
    stamp = `${secondHead}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  }
  return stamp;
}
/** The destination of each logger createLogger made: infoLineWriter writes its lines there directly. */
const destinations = new WeakMap<Logger, { write(line: string): unknown }>();

/**
 * JSON lines on a file descriptor (stdout by default), batched by BatchedLines; a stream (tests) gets each line
 * as it is logged.
 */
export function createLogger(level: string = 'info', destination: NodeJS.WritableStream | number = 1): Logger {
  const stream =
    typeof destination === 'number'
      ? new BatchedLines(
          // sonic-boom's buffer mode takes Buffers (its types name only its utf8 mode's strings).
          pino.destination({ dest: destination, sync: true, contentMode: 'buffer' }) as unknown as {
            write(chunk: Buffer): unknown;
          },
        )
      : destination;
  const logger = pino({ level, base: { app: 'sctp-guard' }, timestamp: time }, stream);
  destinations.set(logger, stream);
  return logger;
}

/** The longest a line waits in the buffer. */
export const BATCH_MAX_WAIT_MS = 10;
/**
 * The most bytes the buffer holds before it is written at once. The batch is UTF-8 bytes, each line encoded into
 * one reused buffer as it comes: a batch held as a string was copied into a new string on each write and measured
 * and encoded again by the destination (sonic-boom's utf8 mode). With one character beyond Latin-1 in it (the `→`
 * of a rollout or a patch summary, in the messages of a 10,000-node cluster), that was 6.1 µs a line against 0.6 µs
 * as bytes; all ASCII, 0.8 against 0.1.
 */
export const BATCH_MAX_BYTES = 64 * 1024;

const live = new Set<BatchedLines>();
let exitHook = false;

/**
 * Log lines (the audit trail) written in batches, as the API server's batch audit backend does
 * (k8s.io/apiserver plugin/pkg/audit/buffered/buffered.go: a bounded buffer, sent when a batch is full or its
 * wait has passed, and drained on Shutdown): one write per BATCH_MAX_WAIT_MS instead of one per decision. Unlike
 * that backend, a full buffer is never dropped: it is written at once, synchronously, so every decision stays in
 * the trail and the memory is bounded. Error and fatal lines are written at once, with what is before them; the
 * buffer is written on logger.flush() (shutdown) and on process exit (a fatal error that exits). Only a hard kill
 * (SIGKILL, OOM) loses what the buffer holds: at most the last BATCH_MAX_WAIT_MS of decisions.
 */
export class BatchedLines {
  private readonly batch: Buffer;
  private used = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: { write(chunk: Buffer): unknown },
    private readonly maxWaitMs = BATCH_MAX_WAIT_MS,
    private readonly maxBytes = BATCH_MAX_BYTES,
  ) {
    this.batch = Buffer.allocUnsafeSlow(maxBytes);
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const b of live) b.flush();
      });
    }
  }

  write(line: string): boolean {
    // Room for the longest UTF-8 the line can be (3 bytes a UTF-16 unit), so that a line is never cut: what is held
    // is written first when it would not fit, and a line longer than the buffer goes alone.
    const most = line.length * 3;
    if (this.used + most > this.maxBytes) this.flush();
    if (most > this.maxBytes) {
      this.out.write(Buffer.from(line));
      return true;
    }
    this.used += this.batch.write(line, this.used);
    // pino writes `{"level":50` (error) and `{"level":60` (fatal) first.
    if (line.startsWith('{"level":50') || line.startsWith('{"level":60')) this.flush();
    else this.timer ??= setTimeout(this.flush, this.maxWaitMs).unref();
    return true;
  }

  /** Writes what the buffer holds, synchronously (pino's logger.flush() calls it). */
  readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used === 0) return;
    // A copy: the destination may keep what it is handed (sonic-boom does while a write is partial).
    const chunk = Buffer.from(this.batch.subarray(0, this.used));
    this.used = 0;
    this.out.write(chunk);
  };
}

/**
 * `logger.info(record, msg)` for the one line written per request: the same bytes pino writes for a logger made by
 * createLogger (level, time, bindings, the record's fields, msg), built with one JSON.stringify of the record and
 * handed to the same synchronous destination. Pino's generic path (hooks, formatters, serializers, per-key
 * stringify) was the largest cost of a request after the rules themselves. Only pino's public API is used (its
 * internal symbols change between versions): any other logger (a child, a test's) takes pino's own path.
 */
export function infoLineWriter(logger: Logger, msg: string): (record: object) => void {
  const stream = destinations.get(logger);
  if (!stream) return (record) => logger.info(record, msg);
  const level = `{"level":${logger.levels.values.info}`;
  const tail = `,"msg":${JSON.stringify(msg)}}\n`;
  const bound = JSON.stringify(logger.bindings());
  const bindings = bound.length > 2 ? `,${bound.slice(1, -1)}` : '';
  const info = logger.levels.values.info!;
  return (record) => {
    if (logger.levelVal > info) return;
    const fields = JSON.stringify(record);
    stream.write(`${level}${time()}${bindings}${fields.length > 2 ? `,${fields.slice(1, -1)}` : ''}${tail}`);
  };
}
