import { pino, type Logger } from 'pino';

/** pino's levels (`serve --log-level`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** JSON lines on stdout, written synchronously so that no decision is lost on exit. */
export function createLogger(level: string = 'info', destination: NodeJS.WritableStream | number = 1): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino({ level, base: { app: 'sctp-guard' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

interface PinoInternals {
  [pino.symbols.streamSym]: { write(line: string): unknown };
  [pino.symbols.timeSym]: () => string;
  [pino.symbols.chindingsSym]: string;
  [pino.symbols.messageKeySym]: string;
}

/**
 * `logger.info(record, msg)` for the one line written per request: the same bytes pino writes for a logger made by
 * createLogger (level, time, bindings, the record's fields, msg), built with one JSON.stringify of the record and
 * handed to the same synchronous destination. Pino's generic path (hooks, formatters, serializers, per-key
 * stringify) was the largest cost of a request after the rules themselves.
 */
export function infoLineWriter(logger: Logger, msg: string): (record: object) => void {
  const internals = logger as unknown as PinoInternals;
  const stream = internals[pino.symbols.streamSym];
  const time = internals[pino.symbols.timeSym];
  const level = `{"level":${logger.levels.values.info}`;
  const tail = `,${JSON.stringify(internals[pino.symbols.messageKeySym])}:${JSON.stringify(msg)}}\n`;
  const bindings = internals[pino.symbols.chindingsSym];
  const info = logger.levels.values.info!;
  return (record) => {
    if (logger.levelVal > info) return;
    const fields = JSON.stringify(record);
    stream.write(`${level}${time()}${bindings}${fields.length > 2 ? `,${fields.slice(1, -1)}` : ''}${tail}`);
  };
}
