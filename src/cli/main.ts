#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { PolicyError } from '../policy/load.js';
import { registerAuditCommand } from './audit.js';
import { registerCertsCommand } from './certs.js';
import { registerCheckCommand } from './check.js';
import { registerRegisterCommands } from './register.js';
import { registerExportCommand } from './export.js';
import { registerPreflightCommand } from './preflight.js';
import { registerRemediateCommand } from './remediate.js';
import { packageVersion } from './options.js';
import { registerServeCommand } from './serve.js';

/** Exit codes shared by every command: 0 fine, 1 something denied, 2 bad input, bad flags or bad policy. */
export const EXIT_BAD_INPUT = 2;

export function buildProgram(): Command {
  const program = new Command('sctp-guard')
    .description('Admission webhook and checker that stops SCTP workloads, Services and MachineConfigs that would silently fail')
    .version(packageVersion(), '-v, --version')
    .exitOverride();
  registerServeCommand(program);
  registerCertsCommand(program);
  registerCheckCommand(program);
  registerAuditCommand(program);
  registerRegisterCommands(program);
  registerRemediateCommand(program);
  registerPreflightCommand(program);
  registerExportCommand(program);
  // A flag error is one line that says where to look, never the whole help.
  for (const command of [program, ...program.commands]) {
    const help = command === program ? 'sctp-guard --help' : `sctp-guard ${command.name()} --help`;
    command.configureOutput({ outputError: (text, write) => write(`sctp-guard: ${text.trim().replace(/^error: /, '')} (see ${help})\n`) });
  }
  return program;
}

/**
 * `serve` is the default command, so commander would read a misspelt command (`chek -f x`) as serve's argument and
 * fail on `-f`; a first word that is not a command is refused as such instead.
 */
function unknownCommand(program: Command, argv: readonly string[]): string | undefined {
  const word = argv[2];
  if (word === undefined || word.startsWith('-')) return undefined;
  const names = [...program.commands.flatMap((c) => [c.name(), ...c.aliases()]), 'help'];
  if (names.includes(word)) return undefined;
  const near = names.filter((n) => editDistance(n, word) <= 2);
  return `unknown command '${word}'${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}; commands: ${names.filter((n) => n !== 'help').join(', ')} (see sctp-guard --help)`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

async function main(argv: string[]): Promise<void> {
  try {
    const program = buildProgram();
    const unknown = unknownCommand(program, argv);
    if (unknown) {
      process.stderr.write(`sctp-guard: ${unknown}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    await program.parseAsync(argv);
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
