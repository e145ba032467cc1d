import { Command, type Option } from 'commander';
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

/**
 * A default as a person types it on the command line: `:8081`, `certs`, `text`, never JSON (`"certs"`,
 * `{"host":"0.0.0.0","port":8081}`); nothing for an empty list or an off switch. A default that has no plain form
 * must say its own (commander's defaultValueDescription).
 */
export function plainDefault(
  option: Pick<Option, 'defaultValue' | 'defaultValueDescription' | 'long'>,
): string | undefined {
  if (option.defaultValueDescription !== undefined) return option.defaultValueDescription;
  const v: unknown = option.defaultValue;
  if (v === undefined || v === false) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || v === true) return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return v.length > 0 ? v.join(',') : undefined;
  throw new Error(`${option.long}: its default has no plain form; give it a defaultValueDescription`);
}

function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`one of ${option.argChoices.join(', ')}`);
  const value = plainDefault(option);
  if (value !== undefined) extra.push(`default ${value === '' ? "''" : value}`);
  return extra.length > 0 ? `${option.description} (${extra.join('; ')})` : option.description;
}

export function buildProgram(): Command {
  const program = new Command('sctp-guard')
    .description(
      'Admission webhook and checker that stops SCTP workloads, Services and MachineConfigs that would silently fail',
    )
    .version(packageVersion(), '-v, --version')
    .configureHelp({ optionDescription })
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
    command.configureOutput({
      outputError: (text, write) => write(`sctp-guard: ${text.trim().replace(/^error: /, '')} (see ${help})\n`),
    });
  }
  return program;
}

/** A first word that is not a command: one line naming the near ones and every command. */
export function unknownCommand(program: Command, argv: readonly string[]): string | undefined {
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
