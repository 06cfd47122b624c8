/** Run configs: the schema and loader of the files `vigil run` executes. */
export {
  loadRunConfig,
  parseBudget,
  parseFalseAlarms,
  RUN_COMMANDS,
  runConfigSchema,
  thresholdChoiceOf,
  validateRunConfig,
  type RunCommand,
  type RunConfig,
  type ThresholdSection,
  type TuneSection,
} from './run-config.js';
