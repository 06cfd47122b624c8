/**
 * The models a service runs, by id, with hot reload: `reload()` loads every model folder afresh,
 * and only when all of them loaded does it swap them in; requests that hold the old detector finish
 * on it, and it is disposed once the last of them lets go. Requests are never refused for a reload.
 */
import path from 'node:path';
import { loadDetector, type Detector } from '../core/detector.js';
import { VigilError } from '../core/errors.js';
import type { ModelInputKind, ModelView } from './api-types.js';
import { HttpError } from './http/errors.js';

export interface ModelSpec {
  id: string;
  dir: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `name=dir` or `dir` (the id is then the folder's name). */
export function parseModelSpec(spec: string): ModelSpec {
  const eq = spec.indexOf('=');
  const [id, dir] = eq > 0 && !spec.slice(0, eq).includes('/') ? [spec.slice(0, eq), spec.slice(eq + 1)] : [path.basename(path.resolve(spec)), spec];
  if (!ID.test(id)) throw new VigilError('E_CONFIG', `--model ${spec}: the model id "${id}" must be 1-64 of A-Z a-z 0-9 . _ - (use --model name=dir)`, { field: 'model', value: spec });
  if (!dir) throw new VigilError('E_CONFIG', `--model ${spec}: no folder given`, { field: 'model', value: spec });
  return { id, dir };
}

export type DetectorLoader = (dir: string) => Promise<Detector>;

/** One loaded detector; reference-counted so a reload can dispose it when idle. */
export class ModelHandle {
  private refs = 0;
  private retired = false;
  private disposed = false;
  readonly loadedAt = Date.now();

  constructor(
    readonly id: string,
    readonly dir: string,
    readonly detector: Detector,
    readonly generation: number,
  ) {}

  get inputKind(): ModelInputKind {
    return this.detector.inputKind;
  }

  get threshold(): number | null {
    return this.detector.postprocess.threshold;
  }

  acquire(): void {
    if (this.disposed) throw new Error(`model ${this.id} generation ${this.generation} used after disposal`);
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0 && this.retired) this.dispose();
  }

  /** Marks the handle replaced; it is disposed now if idle, else when its last user releases it. */
  retire(): void {
    this.retired = true;
    if (this.refs === 0) this.dispose();
  }

  get inFlight(): number {
    return this.refs;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.detector.dispose();
  }

  view(): ModelView {
    const s = this.detector.summary();
    const t = s.training;
    return {
      id: this.id,
      kind: s.kind,
      inputKind: s.inputKind,
      dir: path.resolve(this.dir),
      threshold: s.threshold,
      thresholdMethod: s.thresholdMethod,
      input: s.input,
      generation: this.generation,
      loadedAt: this.loadedAt,
      training: t
        ? {
            epochs: t.epochs,
            bestEpoch: t.bestEpoch,
            stoppedEarly: t.stoppedEarly,
            trainSeconds: t.trainSeconds,
            trainSamples: t.trainSamples,
            validationSamples: t.validationSamples,
            history: (t.history ?? []).map((h) => ({ epoch: h.epoch, loss: h.loss, valLoss: h.valLoss })),
          }
        : null,
    };
  }
}

export class ModelRegistry {
  private handles = new Map<string, ModelHandle>();
  private generation = 0;
  private reloading: Promise<ModelView[]> | null = null;

  constructor(
    readonly specs: readonly ModelSpec[],
    private readonly loader: DetectorLoader = loadDetector,
  ) {
    const seen = new Set<string>();
    for (const s of specs) {
      if (seen.has(s.id)) throw new VigilError('E_CONFIG', `--model: the id "${s.id}" is used twice (name them with --model name=dir)`, { field: 'model', value: s.id });
      seen.add(s.id);
    }
  }

  /** Loads every model; throws (naming the folder) if one fails. */
  async load(): Promise<void> {
    const next = await this.loadAll();
    this.handles = next;
  }

  private async loadAll(): Promise<Map<string, ModelHandle>> {
    this.generation++;
    const out = new Map<string, ModelHandle>();
    try {
      for (const s of this.specs) {
        const detector = await this.loader(s.dir);
        out.set(s.id, new ModelHandle(s.id, s.dir, detector, this.generation));
      }
    } catch (e) {
      for (const h of out.values()) h.retire();
      throw e;
    }
    return out;
  }

  /**
   * Loads every model folder again and swaps them in together; on failure the running models stay.
   * Concurrent calls share one reload.
   */
  reload(): Promise<ModelView[]> {
    this.reloading ??= (async () => {
      try {
        const next = await this.loadAll();
        const old = this.handles;
        this.handles = next;
        for (const h of old.values()) h.retire();
        return this.views();
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  ids(): string[] {
    return [...this.handles.keys()];
  }

  has(id: string): boolean {
    return this.handles.has(id);
  }

  /** The current handle of model `id`; 404 naming the model when unknown. */
  get(id: string): ModelHandle {
    const h = this.handles.get(id);
    if (!h) throw new HttpError(404, 'E_NOT_FOUND', `no model "${id}" (loaded: ${this.ids().join(', ') || 'none'})`, 'model');
    return h;
  }

  /** Runs `fn` with the current detector of `id`, holding it against disposal until `fn` settles. */
  async use<T>(id: string, fn: (h: ModelHandle) => Promise<T>): Promise<T> {
    const h = this.get(id);
    h.acquire();
    try {
      return await fn(h);
    } finally {
      h.release();
    }
  }

  views(): ModelView[] {
    return [...this.handles.values()].map((h) => h.view());
  }

  /** Disposes every model (once requests have finished). */
  close(): void {
    for (const h of this.handles.values()) h.retire();
    this.handles.clear();
  }
}
