/**
 * `vigil` command line. Each command lives in its own module under commands/; this file wires them to
 * commander and turns every failure into one line on stderr and a non-zero exit code.
 */
import { Command, CommanderError } from 'commander';
import { describeError, isVigilError } from '../core/errors.js';
import { VIGIL_VERSION } from '../core/version.js';
import { registerCommands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('CNN-based anomaly detection: train on normal data, score, threshold, evaluate, monitor')
    .version(VIGIL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message (or the help / version text).
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(describeError(e) + '\n');
    if (!isVigilError(e) && process.env.VIGIL_DEBUG) process.stderr.write(String((e as Error).stack) + '\n');
    return 1;
  }
}
