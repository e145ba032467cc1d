#!/usr/bin/env node
import { CommanderError } from 'commander';
import { PolicyError } from '../policy/load.js';
import { buildProgram, EXIT_BAD_INPUT, unknownCommand } from './program.js';

async function main(argv: string[]): Promise<void> {
  try {
    const program = buildProgram();
    // A bare `sctp-guard` says what it can do, as kubectl does; serving is asked for by name.
    if (argv.length <= 2) {
      process.stdout.write(program.helpInformation());
      return;
    }
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
