import type { Command } from 'commander';
import { registerTrain } from './train.js';
import { registerScore } from './score.js';
import { registerEvaluate } from './evaluate.js';
import { registerDemo } from './demo.js';
import { registerServe } from './serve.js';
import { registerReplay } from './replay.js';
import { registerTune } from './tune.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerBench } from './bench-nab.js';

/** Adds every subcommand to the program; one module per command. */
export function registerCommands(program: Command): void {
  registerTrain(program);
  registerScore(program);
  registerEvaluate(program);
  registerDemo(program);
  registerServe(program);
  registerReplay(program);
  registerTune(program);
  registerReport(program);
  registerRun(program);
  registerBench(program);
}
