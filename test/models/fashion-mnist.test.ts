import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { getDetectorFactory } from '../../src/core/detector.js';
import { DEBIAN_FASHION_MNIST_DIR, indicesOfClass, loadFashionMnist, packedSamples } from '../../src/data/idx.js';
import { auroc } from '../../src/metrics/index.js';
import '../../src/models/index.js';

const dir = process.env.FASHION_MNIST_DIR ?? DEBIAN_FASHION_MNIST_DIR;

test('real data: a small conv-ae trained briefly on Fashion-MNIST trousers separates them from the other classes', async (t) => {
  if (!existsSync(dir)) {
    t.skip(`Fashion-MNIST is absent (${dir}); install it with: apt-get install -y dataset-fashion-mnist`);
    return;
  }
  const data = await loadFashionMnist(dir);
  const normalClass = 1; // trouser
  const train = packedSamples(data.train.images, { indices: indicesOfClass(data.train.labels, normalClass).slice(0, 1500) });
  // A balanced slice of the test set keeps the test short: the first 2,000 images.
  const testIdx = Array.from({ length: 2000 }, (_, i) => i);
  const testSet = packedSamples(data.test.images, { indices: testIdx });
  const labels = testIdx.map((i) => (data.test.labels[i] === normalClass ? 0 : 1));
  const det = getDetectorFactory('conv-ae').create({ height: 28, width: 28, channels: 1, depth: 2, filters: 16, latent: 16, epochs: 3, batchSize: 64, seed: 1 });
  await det.fit(train);
  const scores = (await det.score(testSet)).map((r) => r.score);
  const a = auroc(scores, labels);
  assert.ok(a > 0.85, `AUROC ${a.toFixed(3)} should be well above chance (0.5)`);
  det.dispose();
});
