import { pino, type Logger } from 'pino';

/** pino's levels (`serve --log-level`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const time = pino.stdTimeFunctions.isoTime;
/** The destination of each logger createLogger made: infoLineWriter writes its lines there directly. */
const destinations = new WeakMap<Logger, { write(line: string): unknown }>();

/** JSON lines on stdout, written synchronously so that no decision is lost on exit. */
export function createLogger(level: string = 'info', destination: NodeJS.WritableStream | number = 1): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  const logger = pino({ level, base: { app: 'sctp-guard' }, timestamp: time }, stream);
  destinations.set(logger, stream);
  return logger;
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
