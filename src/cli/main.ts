#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PolicyError } from '../policy/load.js';
import { registerAuditCommand } from './audit.js';
import { registerCertsCommand } from './certs.js';
import { registerCheckCommand } from './check.js';
import { registerRegisterCommands } from './register.js';
import { registerRemediateCommand } from './remediate.js';
import { registerServeCommand } from './serve.js';

/** Exit codes shared by every command: 0 fine, 1 something denied, 2 bad input, bad flags or bad policy. */
export const EXIT_BAD_INPUT = 2;

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('sctp-guard')
    .description('Admission webhook and checker that stops SCTP workloads, Services and MachineConfigs that would silently fail')
    .version(pkg.version, '-v, --version')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerCertsCommand(program);
  registerCheckCommand(program);
  registerAuditCommand(program);
  registerRegisterCommands(program);
  registerRemediateCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    if (err instanceof PolicyError) {
      process.stderr.write(`sctp-guard: bad policy: ${err.message}\n`);
    } else {
      process.stderr.write(`sctp-guard: ${(err as Error).message}\n`);
    }
    process.exitCode = EXIT_BAD_INPUT;
  }
}

void main(process.argv);
