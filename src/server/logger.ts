import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** JSON lines on stdout, written synchronously so that no decision is lost on exit. */
export function createLogger(level: string = 'info', destination: NodeJS.WritableStream | number = 1): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino({ level, base: { app: 'sctp-guard' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
