/**
 * Reconstruction errors between an input x and its reconstruction r, both (N, H, W, C) in [0, 1]:
 * per-pixel maps (N, H, W) for scoring and localisation, and the matching scalar training loss.
 */
import * as tf from '@tensorflow/tfjs-core';

export type ReconstructionLoss = 'mse' | 'l1' | 'ssim' | 'mse+ssim';
export const RECONSTRUCTION_LOSSES: readonly ReconstructionLoss[] = ['mse', 'l1', 'ssim', 'mse+ssim'];

const SSIM_WINDOW = 7;
const SSIM_SIGMA = 1.5;
// Stabilisers of Wang et al. (2004) for a dynamic range of 1.
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

function gaussianWindow(size: number, sigma: number): tf.Tensor4D {
  const half = (size - 1) / 2;
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = g.reduce((a, b) => a + b, 0);
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = (g[i]! * g[j]!) / (sum * sum);
  return tf.tensor4d(w, [size, size, 1, 1]);
}

/** Gaussian local mean of every channel: (N, H, W, C) -> (N, H, W, C), zero padding at the borders. */
function localMean(t: tf.Tensor4D, window: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  if (c === 1) return tf.conv2d(t, window, 1, 'same');
  // Channels go into the batch so one single-channel filter serves them all.
  const planes = tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [n * c, h, w, 1]);
  const blurred = tf.conv2d(planes as tf.Tensor4D, window, 1, 'same');
  return tf.transpose(tf.reshape(blurred, [n, c, h, w]), [0, 2, 3, 1]);
}

/** Structural similarity map (N, H, W, C), 1 where the local structure is identical. */
export function ssimMap(x: tf.Tensor4D, r: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const window = gaussianWindow(SSIM_WINDOW, SSIM_SIGMA);
    const muX = localMean(x, window);
    const muR = localMean(r, window);
    const sxx = tf.sub(localMean(tf.mul(x, x), window), tf.mul(muX, muX));
    const srr = tf.sub(localMean(tf.mul(r, r), window), tf.mul(muR, muR));
    const sxr = tf.sub(localMean(tf.mul(x, r), window), tf.mul(muX, muR));
    const num = tf.mul(tf.add(tf.mul(tf.mul(muX, muR), 2), C1), tf.add(tf.mul(sxr, 2), C2));
    const den = tf.mul(tf.add(tf.add(tf.mul(muX, muX), tf.mul(muR, muR)), C1), tf.add(tf.add(sxx, srr), C2));
    return tf.div(num, den) as tf.Tensor4D;
  });
}

/** Per-pixel error (N, H, W), averaged over channels. */
export function pixelErrorMap(x: tf.Tensor4D, r: tf.Tensor4D, loss: ReconstructionLoss): tf.Tensor3D {
  return tf.tidy(() => {
    const diff = tf.sub(x, r);
    const mse = () => tf.mean(tf.square(diff), -1);
    const dssim = () => tf.mean(tf.div(tf.sub(1, ssimMap(x, r)), 2), -1);
    switch (loss) {
      case 'mse':
        return mse() as tf.Tensor3D;
      case 'l1':
        return tf.mean(tf.abs(diff), -1) as tf.Tensor3D;
      case 'ssim':
        return dssim() as tf.Tensor3D;
      case 'mse+ssim':
        return tf.add(mse(), dssim()) as tf.Tensor3D;
    }
  });
}

/** Per-sample mean of the pixel error map: (N). */
export function sampleErrors(x: tf.Tensor4D, r: tf.Tensor4D, loss: ReconstructionLoss): tf.Tensor1D {
  return tf.tidy(() => tf.mean(pixelErrorMap(x, r, loss), [1, 2]) as tf.Tensor1D);
}
