/**
 * The live time-series streams of a service: one online scorer per (model, stream), created on the
 * stream's first point, rebuilt on a model reload (resuming the old scorer's state, so the new model
 * does not start from an empty window), and bounded in number.
 */
import { HttpError } from '../http/errors.js';
import type { ModelHandle } from '../models.js';
import { onlineScorerFactory, type StreamScorer, type StreamScorerFactory } from './stream-scorer.js';

export interface StreamState {
  model: string;
  stream: string;
  scorer: StreamScorer;
  /** Generation of the model handle the scorer was built for. */
  generation: number;
  lastT: number | null;
  points: number;
  lastScore: number | null;
  lastNormalized: number | null;
  threshold: number | null;
  lastSeen: number;
  /** Points arrived since the scorer's state was last saved. */
  dirty: boolean;
}

/** Builds a scorer factory for a model handle (tests substitute their own). */
export type ScorerFactoryFor = (h: ModelHandle) => StreamScorerFactory;

export const defaultScorerFactory: ScorerFactoryFor = (h) => onlineScorerFactory(h.detector);

/** Persisted scorer states, looked up when a stream is first seen after a restart. */
export interface ScorerStateSource {
  loadScorerState(model: string, stream: string): unknown;
}

export class StreamTable {
  private readonly streams = new Map<string, StreamState>();
  private readonly factories = new WeakMap<ModelHandle, StreamScorerFactory>();

  constructor(
    private readonly factoryFor: ScorerFactoryFor = defaultScorerFactory,
    private readonly maxStreams = 10_000,
    private readonly saved: ScorerStateSource | null = null,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** The model's scorer factory (cached per handle); throws E_UNSUPPORTED for non-window models. */
  factory(h: ModelHandle): StreamScorerFactory {
    let f = this.factories.get(h);
    if (!f) {
      f = this.factoryFor(h);
      this.factories.set(h, f);
    }
    return f;
  }

  peek(model: string, stream: string): StreamState | undefined {
    return this.streams.get(key(model, stream));
  }

  /** Whether `count` new streams would fit. */
  canAdd(count: number): boolean {
    return this.streams.size + count <= this.maxStreams;
  }

  /** The stream's state for model handle `h`, creating it or rebuilding it after a reload. */
  get(h: ModelHandle, stream: string, field: string): StreamState {
    const k = key(h.id, stream);
    let s = this.streams.get(k);
    if (!s) {
      if (this.streams.size >= this.maxStreams) {
        throw new HttpError(429, 'E_LIMIT', `${field}: the service already tracks ${this.maxStreams} streams; stream "${stream}" cannot be added`, field);
      }
      const scorer = this.factory(h).create();
      const prior = this.saved?.loadScorerState(h.id, stream);
      if (prior !== undefined && prior !== null) scorer.restore(prior);
      s = { model: h.id, stream, scorer, generation: h.generation, lastT: scorer.lastTimestamp, points: 0, lastScore: null, lastNormalized: null, threshold: null, lastSeen: Date.now(), dirty: false };
      this.streams.set(k, s);
    } else if (s.generation !== h.generation) {
      const scorer = this.factory(h).create();
      scorer.restore(s.scorer.state());
      s.scorer = scorer;
      s.generation = h.generation;
    }
    s.lastSeen = Date.now();
    return s;
  }

  all(): StreamState[] {
    return [...this.streams.values()];
  }

  /** Removes streams idle since before `before` (epoch ms); returns them (to save their state). */
  evictIdle(before: number): StreamState[] {
    const out: StreamState[] = [];
    for (const [k, s] of this.streams) {
      if (s.lastSeen < before) {
        this.streams.delete(k);
        out.push(s);
      }
    }
    return out;
  }
}

function key(model: string, stream: string): string {
  return `${model}\u0000${stream}`;
}
