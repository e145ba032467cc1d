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
      ? new BatchedLines(pino.destination({ dest: destination, sync: true }))
      : destination;
  const logger = pino({ level, base: { app: 'sctp-guard' }, timestamp: time }, stream);
  destinations.set(logger, stream);
  return logger;
}

/** The longest a line waits in the buffer. */
export const BATCH_MAX_WAIT_MS = 10;
/**
 * The most characters the buffer holds before it is written at once. V8 puts a string over 128 KiB
 * (kMaxRegularHeapObjectSize) in large-object space, on freshly mapped pages every time; a buffer with one character
 * beyond Latin-1 (the `→` of a rollout or a patch summary) is two bytes a character, so 64 Ki of them became such a
 * string when written: 20 µs more per decision on this project's 2-core VMs (page faults), and sctp-guard at 10,000
 * nodes (whose messages name a rollout) lost 20% of its throughput. 32 Ki stay under it either way.
 */
export const BATCH_MAX_CHARS = 32 * 1024;

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
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: { write(chunk: string): unknown },
    private readonly maxWaitMs = BATCH_MAX_WAIT_MS,
    private readonly maxChars = BATCH_MAX_CHARS,
  ) {
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const b of live) b.flush();
      });
    }
  }

  write(line: string): boolean {
    // What is held is written before it would pass the bound; a line longer than the bound goes alone.
    if (this.pending.length + line.length > this.maxChars) this.flush();
    this.pending += line;
    // pino writes `{"level":50` (error) and `{"level":60` (fatal) first.
    if (this.pending.length >= this.maxChars || line.startsWith('{"level":50') || line.startsWith('{"level":60'))
      this.flush();
    else this.timer ??= setTimeout(this.flush, this.maxWaitMs).unref();
    return true;
  }

  /** Writes what the buffer holds, synchronously (pino's logger.flush() calls it). */
  readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
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
