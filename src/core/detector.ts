/**
 * The one interface every detector implements (PyOD's fit / decision_function / threshold_, with
 * anomalib's post-processor saved inside the model), and the registry that maps a saved model's
 * `kind` back to the code that loads it.
 */
import type { Manifest } from './model-store.js';
import { readModelDir, writeModelDir } from './model-store.js';
import { VigilError } from './errors.js';
import { validateConfig } from './config.js';
import type { FitOptions, FitReport, InputKind, ScoreResult } from './types.js';
import { PostProcessor, DEFAULT_THRESHOLD_SPEC, type ThresholdSpec } from '../scoring/postprocess.js';

export interface Detector<I = unknown> {
  /** Registry key, e.g. 'conv-ae', 'patchcore', 'conv1d-ae'. */
  readonly kind: string;
  readonly inputKind: InputKind;
  /** Threshold and score normalisation; saved with the model. */
  readonly postprocess: PostProcessor;
  /**
   * Trains on normal samples (and optional labelled anomalies), then fits the label-free threshold on
   * held-out normal scores.
   */
  fit(train: I[], opts?: FitOptions<I>): Promise<FitReport>;
  /** Raw anomaly scores (higher = more anomalous), with maps and reasons where the detector has them. */
  score(batch: I[]): Promise<ScoreResult[]>;
  /** Writes the model folder atomically. */
  save(dir: string): Promise<Manifest>;
  /** What the CLI, reports and the dashboard show about the model. */
  summary(): DetectorSummary;
  /** Frees engine memory (tensors, wasm buffers). */
  dispose(): void;
}

export interface DetectorSummary {
  kind: string;
  inputKind: InputKind;
  config: Record<string, unknown>;
  input: Record<string, unknown>;
  threshold: number | null;
  thresholdMethod: string | null;
  training: FitReport | null;
}

/** What a detector contributes to its saved folder beyond the common manifest fields. */
export interface DetectorArtifacts {
  input: Record<string, unknown>;
  preprocess: Record<string, unknown>;
  state: Record<string, unknown>;
  files: Record<string, Uint8Array>;
}

/**
 * Shared lifecycle: the base owns the threshold fit, save and summary; a detector supplies
 * `train`, `score`, `artifacts` and `dispose`.
 */
export abstract class BaseDetector<I, C extends { threshold: ThresholdSpec }> implements Detector<I> {
  abstract readonly kind: string;
  abstract readonly inputKind: InputKind;
  readonly postprocess: PostProcessor;
  protected report: FitReport | null = null;

  protected constructor(readonly config: Readonly<C>, postprocess?: PostProcessor, report?: FitReport | null) {
    this.postprocess = postprocess ?? new PostProcessor();
    this.report = report ?? null;
  }

  /** Model-specific training; must return held-out normal scores in `validationScores`. */
  protected abstract train(train: I[], opts: FitOptions<I>): Promise<FitReport>;
  abstract score(batch: I[]): Promise<ScoreResult[]>;
  protected abstract artifacts(): Promise<DetectorArtifacts>;
  abstract dispose(): void;

  async fit(train: I[], opts: FitOptions<I> = {}): Promise<FitReport> {
    if (train.length === 0) throw new VigilError('E_EMPTY', 'no training samples');
    const report = await this.train(train, opts);
    const spec = this.config.threshold ?? DEFAULT_THRESHOLD_SPEC;
    const heldOutAnomalies = opts.validationAnomalies ?? [];
    if (report.validationScores.length > 0 && heldOutAnomalies.length > 0) {
      const anomalyScores = (await this.score(heldOutAnomalies)).map((r) => r.score);
      this.postprocess.fitFewLabels(report.validationScores, anomalyScores, spec);
    } else if (report.validationScores.length > 0) {
      this.postprocess.fitNormal(report.validationScores, spec);
    }
    this.report = report;
    return report;
  }

  async save(dir: string): Promise<Manifest> {
    const a = await this.artifacts();
    return writeModelDir(
      dir,
      {
        kind: this.kind,
        inputKind: this.inputKind,
        config: this.config as unknown as Record<string, unknown>,
        input: a.input,
        preprocess: a.preprocess,
        postprocess: this.postprocess.toJSON() as unknown as Record<string, unknown>,
        state: a.state,
        training: this.report as unknown as Record<string, unknown> | null,
      },
      a.files,
    );
  }

  summary(): DetectorSummary {
    return {
      kind: this.kind,
      inputKind: this.inputKind,
      config: this.config as unknown as Record<string, unknown>,
      input: {},
      threshold: this.postprocess.threshold,
      thresholdMethod: this.postprocess.state.method,
      training: this.report,
    };
  }
}

export interface DetectorFactory<I = unknown> {
  kind: string;
  inputKind: InputKind;
  description: string;
  /** Builds an untrained detector from a (partial) config; validates it and names any bad key. */
  create(config: Record<string, unknown>): Detector<I>;
  /** Rebuilds a trained detector from its verified folder contents. */
  load(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<Detector<I>>;
}

/** A detector that rebuilds its trained state from a verified model folder (every built-in one). */
export interface RestorableDetector<I> extends Detector<I> {
  restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void>;
}

/**
 * The factory of a detector whose config is checked against a JSON schema (defaults filled in, a bad
 * key named) and whose trained state is restored from its folder; a detector that fails to restore
 * is disposed before the error is passed on. `prepare` rewrites a raw config before validation
 * (e.g. resolving a backbone path).
 */
export function schemaFactory<I, C>(o: {
  kind: string;
  inputKind: InputKind;
  description: string;
  schema: object;
  prepare?: (raw: Record<string, unknown>) => Record<string, unknown>;
  build: (config: Readonly<C>, postprocess?: PostProcessor, report?: FitReport | null) => RestorableDetector<I>;
}): DetectorFactory<I> {
  return {
    kind: o.kind,
    inputKind: o.inputKind,
    description: o.description,
    create: (raw) => o.build(validateConfig<C>(o.schema, o.prepare ? o.prepare(raw) : raw, `${o.kind} config`)),
    load: async (manifest, files, dir) => {
      const config = validateConfig<C>(o.schema, manifest.config, `${dir}: config`);
      const d = o.build(config, PostProcessor.fromJSON(manifest.postprocess, dir), manifest.training as unknown as FitReport | null);
      try {
        await d.restore(manifest, files, dir);
      } catch (e) {
        d.dispose();
        throw e;
      }
      return d;
    },
  };
}

const registry = new Map<string, DetectorFactory<unknown>>();

export function registerDetector<I>(factory: DetectorFactory<I>): void {
  registry.set(factory.kind, factory as DetectorFactory<unknown>);
}

export function getDetectorFactory(kind: string): DetectorFactory<unknown> {
  const f = registry.get(kind);
  if (!f) {
    throw new VigilError('E_CONFIG', `unknown detector "${kind}"; known: ${[...registry.keys()].sort().join(', ')}`, { field: 'detector', value: kind });
  }
  return f;
}

export function listDetectors(): DetectorFactory<unknown>[] {
  return [...registry.values()];
}

/** Loads any saved model folder, verifying checksums and format version. */
export async function loadDetector<I = unknown>(dir: string): Promise<Detector<I>> {
  const { manifest, files } = await readModelDir(dir);
  const factory = registry.get(manifest.kind);
  if (!factory) {
    throw new VigilError('E_MODEL_INCOMPATIBLE', `${dir}: model kind "${manifest.kind}" is not known to this vigil (known: ${[...registry.keys()].sort().join(', ')})`, {
      path: dir,
      kind: manifest.kind,
    });
  }
  return factory.load(manifest, files, dir) as Promise<Detector<I>>;
}
