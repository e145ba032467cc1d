import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** The server: close() stops accepting and resolves once the requests in flight are answered. */
  server: { close(): Promise<unknown> };
  logger: Logger;
  /**
   * Time between turning unready and closing the listener: the endpoints controller and every node's kube-proxy
   * must stop sending new connections here first, or the API server's next call hits a closed port.
   */
  drainDelayMs: number;
  /** Past this, counted from the signal, the process exits anyway: keep it under terminationGracePeriodSeconds. */
  timeoutMs: number;
  /** Run after the server has closed, in order (informers, certificate watch); a failure is logged, not fatal. */
  cleanup?: Array<() => Promise<void> | void>;
  exit?: (code: number) => void;
}

/**
 * SIGTERM handling for a webhook behind a Service: /readyz goes unready first, the server keeps answering while
 * endpoints converge, then closes and lets in-flight reviews finish, the audit log is flushed, and the process
 * exits, all within the termination grace period.
 */
export class GracefulShutdown {
  private started?: Promise<void>;
  private isDraining = false;

  constructor(private readonly options: ShutdownOptions) {}

  /** For AppOptions.draining. */
  readonly draining = (): boolean => this.isDraining;

  /**
   * A second SIGTERM while shutting down changes nothing (the deadline still holds); a second SIGINT is a person
   * pressing Ctrl-C again, who wants out now (exit 130, as a shell reports an interrupt).
   */
  run(signal: string): Promise<void> {
    if (this.started && signal === 'SIGINT') {
      this.options.logger.warn({ signal }, 'second interrupt: exiting now, without waiting for requests in flight');
      this.options.logger.flush();
      (this.options.exit ?? ((code: number) => process.exit(code)))(130);
      return this.started;
    }
    this.started ??= this.shutdown(signal);
    return this.started;
  }

  /** Routes SIGTERM (kubelet) and SIGINT (Ctrl-C) here. */
  listen(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    for (const signal of signals) process.on(signal, () => void this.run(signal));
  }

  private async shutdown(signal: string): Promise<void> {
    const {
      server,
      logger,
      drainDelayMs,
      timeoutMs,
      cleanup = [],
      exit = (code: number) => process.exit(code),
    } = this.options;
    const started = Date.now();
    const deadline = setTimeout(() => {
      logger.error(
        { signal, timeoutMs },
        `shutdown took longer than ${timeoutMs} ms: exiting with requests still open`,
      );
      logger.flush();
      exit(1);
    }, timeoutMs);
    deadline.unref();

    this.isDraining = true;
    logger.info(
      { signal, drainDelayMs, timeoutMs },
      'shutting down: /readyz is now unready; still answering while endpoints converge',
    );
    await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    for (const step of [() => server.close(), ...cleanup]) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
    logger.info({ signal, ms: Date.now() - started }, 'shutdown complete');
    logger.flush();
    exit(0);
  }
}
