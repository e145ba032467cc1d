/**
 * What the Ignition pipeline says about a config, before a rule turns it into findings. `error`: Ignition, the
 * MCO or the machine-config daemon would refuse it (the pool degrades); `warning`: it works, but surprises.
 */
export interface Problem {
  severity: 'error' | 'warning';
  /** What is wrong, naming the field or the file/unit/user, in the upstream's words where it has them. */
  message: string;
  /** How to fix it. */
  fix: string;
  /** One line for kubectl's `Warning:` (the rule prefixes the rule ID and object). */
  short: string;
  /**
   * JSON pointer of the offending field inside the Ignition config as the user wrote it (`/storage/files/2/mode`;
   * `/ignition/version` for the config as a whole, '' when spec.config is not even an object): `check` prints
   * its line.
   */
  pointer: string;
}

/** A problem about the config as a whole is shown at its version. */
export const WHOLE_CONFIG = '/ignition/version';

export function error(message: string, fix: string, short: string, pointer: string): Problem {
  return { severity: 'error', message, fix, short, pointer };
}

export function warning(message: string, fix: string, short: string, pointer: string): Problem {
  return { severity: 'warning', message, fix, short, pointer };
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
