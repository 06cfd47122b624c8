/**
 * Input adapters: how the CLI, the benchmarks and the service turn a path on disk into the samples a
 * detector of a given input kind takes. One adapter per input kind; detectors never read files.
 */
import type { InputKind, ProgressSink } from '../core/types.js';
import { VigilError } from '../core/errors.js';

/** What a detector's `summary().input` says about the data it takes (sizes, channels, columns...). */
export type InputDescription = Record<string, unknown>;

export interface TrainingData<S> {
  /** Normal (or mostly normal, unlabelled) training samples. */
  normal: S[];
  /** Labelled anomalies available for semi-supervised training. */
  anomalies: S[];
  /** Layout or format that was recognised, for messages. */
  layout: string;
}

/** A sample as the CLI reports it: where it came from plus whatever the detector needs. */
export interface SourcedSample {
  source: string;
}

export interface InputAdapter<S extends SourcedSample> {
  kind: InputKind;
  /** Training split of a data set (folder or file). */
  loadTrain(path: string, input: InputDescription, progress?: ProgressSink): Promise<TrainingData<S>>;
  /** Labelled test split of a data set. */
  loadTest(path: string, input: InputDescription, progress?: ProgressSink): Promise<S[]>;
  /** One file or a folder of files to score. */
  loadForScoring(path: string, input: InputDescription, progress?: ProgressSink): Promise<S[]>;
}

const adapters = new Map<InputKind, InputAdapter<SourcedSample>>();

export function registerInputAdapter<S extends SourcedSample>(adapter: InputAdapter<S>): void {
  adapters.set(adapter.kind, adapter as unknown as InputAdapter<SourcedSample>);
}

export function inputAdapter(kind: InputKind): InputAdapter<SourcedSample> {
  const a = adapters.get(kind);
  if (!a) throw new VigilError('E_UNSUPPORTED', `no data reader is registered for ${kind} input`);
  return a;
}
