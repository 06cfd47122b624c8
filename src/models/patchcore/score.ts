/**
 * PatchCore's image score (Roth et al., CVPR 2022, Eq. 6-7): the largest patch distance s*, scaled
 * by how isolated the bank vector behind it is.
 *
 *   m_test,* = the test patch with the largest nearest-neighbour distance s*,
 *   m*       = its nearest bank vector,
 *   N_b(m*)  = the b bank vectors nearest to m* (m* itself first),
 *   s        = (1 - exp|m_test,* - m*| / sum over m in N_b(m*) of exp|m_test,* - m|) * s*.
 *
 * The softmax is evaluated stably (max subtracted). With b = 1 the score is s*.
 */
import type { NearestNeighbourIndex } from '../components/nearest.js';

/**
 * `patchScores` (P) are the scores the image score is taken from: each patch's nearest-neighbour
 * distance as in the paper, or those distances standardised per position (the detector's
 * `normalisePositions`); m_test,* is the patch with the largest one and s* its score. `nearest`
 * holds each patch's nearest bank index (P) and `features` the image's patch features (P, D); the
 * softmax always uses Euclidean feature distances.
 */
export function reweightedImageScore(
  patchScores: Float32Array,
  nearest: Int32Array,
  features: Float32Array,
  index: NearestNeighbourIndex,
  neighbours: number,
): number {
  let pStar = 0;
  for (let p = 1; p < patchScores.length; p++) if (patchScores[p]! > patchScores[pStar]!) pStar = p;
  const sStar = patchScores[pStar]!;
  const b = Math.min(neighbours, index.size);
  if (b <= 1) return sStar;
  const D = index.dim;
  const query = features.subarray(pStar * D, (pStar + 1) * D);
  const support = index.nearestK(index.vector(nearest[pStar]!), b).indices;
  const d = Array.from(support, (j) => {
    const v = index.vector(j);
    let s = 0;
    for (let t = 0; t < D; t++) {
      const x = query[t]! - v[t]!;
      s += x * x;
    }
    return Math.sqrt(s);
  });
  const max = Math.max(...d);
  const sum = d.reduce((acc, x) => acc + Math.exp(x - max), 0);
  const weight = 1 - Math.exp(d[0]! - max) / sum;
  return weight * sStar;
}
