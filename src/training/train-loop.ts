/**
 * The training loop every neural detector shares: seeded shuffling, mini-batches, Adam, validation
 * loss each epoch, early stopping with the best weights restored, progress and cancellation.
 * A model supplies only its loss for a batch of sample indices.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../core/errors.js';
import type { EpochRecord, ProgressSink } from '../core/types.js';
import { createRng } from '../data/random.js';

export interface TrainLoopOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Epochs without improvement of the validation loss before stopping (0 = never stop early). */
  patience: number;
  seed: number;
  trainCount: number;
  valCount: number;
  variables: tf.Variable[];
  /** Mean loss over the batch of training samples `indices`; runs inside the optimizer's tape. */
  trainLoss(indices: number[], step: number): tf.Scalar;
  /** Mean loss over validation samples `indices` (no gradients). */
  valLoss(indices: number[]): tf.Scalar;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

export interface TrainLoopResult {
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  epochs: number;
}

function snapshot(vars: tf.Variable[]): Float32Array[] {
  return vars.map((v) => v.dataSync() as Float32Array).map((a) => a.slice());
}

function restore(vars: tf.Variable[], values: Float32Array[]): void {
  vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i]!, v.shape, 'float32'))));
}

function meanLoss(count: number, batchSize: number, lossOf: (idx: number[]) => tf.Scalar): number {
  let total = 0;
  for (let start = 0; start < count; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const l = tf.tidy(() => lossOf(idx));
    total += (l.dataSync()[0] as number) * idx.length;
    l.dispose();
  }
  return total / count;
}

export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  if (o.trainCount === 0) throw new VigilError('E_EMPTY', 'no training samples left after the validation split');
  const rng = createRng(o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const stepsPerEpoch = Math.ceil(o.trainCount / o.batchSize);
  const history: EpochRecord[] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights: Float32Array[] | null = null;
  let stale = 0;
  let stoppedEarly = false;
  let step = 0;
  o.progress?.start(o.epochs * stepsPerEpoch, 'train');
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = performance.now();
      const order = rng.shuffle(Array.from({ length: o.trainCount }, (_, i) => i));
      let sum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (o.signal?.aborted) throw new VigilError('E_VALUE', 'training was cancelled');
        const idx = order.slice(s * o.batchSize, (s + 1) * o.batchSize);
        const stepIndex = step;
        const loss = optimizer.minimize(() => o.trainLoss(idx, stepIndex), true, o.variables);
        const value = loss!.dataSync()[0] as number;
        loss!.dispose();
        if (!Number.isFinite(value)) {
          throw new VigilError('E_VALUE', `training diverged: loss is ${value} at epoch ${epoch}, step ${s + 1} (lower the learning rate or check the data for extreme values)`);
        }
        sum += value * idx.length;
        step++;
        o.progress?.update(step, { epoch, loss: value.toFixed(5) });
        // Yield to the event loop now and then so progress bars, signals and servers stay responsive.
        if (s % 8 === 7) await new Promise((r) => setImmediate(r));
      }
      const loss = sum / o.trainCount;
      const valLoss = o.valCount > 0 ? meanLoss(o.valCount, o.batchSize, o.valLoss) : null;
      history.push({ epoch, loss, valLoss, seconds: (performance.now() - t0) / 1000 });
      const monitored = valLoss ?? loss;
      if (bestEpoch === 0 || monitored < best - 1e-7 * Math.abs(best)) {
        best = monitored;
        bestEpoch = epoch;
        stale = 0;
        if (o.patience > 0) bestWeights = snapshot(o.variables);
      } else if (o.patience > 0 && ++stale >= o.patience) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    o.progress?.stop();
    optimizer.dispose();
  }
  if (bestWeights && bestEpoch !== history.length) restore(o.variables, bestWeights);
  return { history, bestEpoch, stoppedEarly, epochs: history.length };
}
