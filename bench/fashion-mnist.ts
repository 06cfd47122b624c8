/**
 * One-class Fashion-MNIST (protocol of ../shared/BENCHMARKS.md): for each class k, train on the 6,000
 * training images of class k, test on all 10,000 test images (class k normal, the rest anomalous).
 * Reports AUROC per class and the mean for conv-ae and conv-vae, with training time and throughput.
 *
 *   npm run bench -- fashion-mnist [dir] [--classes 0,1,2] [--epochs 20] [--detectors conv-ae,conv-vae]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getDetectorFactory } from '../src/core/detector.js';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, indicesOfClass, loadFashionMnist, packedSamples } from '../src/data/idx.js';
import { engineInfo, initEngine } from '../src/engine/backend.js';
import { auroc } from '../src/metrics/index.js';
import '../src/models/index.js';

export interface ClassResult {
  detector: string;
  cls: number;
  auroc: number;
  epochs: number;
  trainSeconds: number;
  trainSamplesPerSecond: number;
  inferSamplesPerSecond: number;
}

/**
 * The BENCHMARKS.md reference autoencoder's settings (a PyTorch model, so PyTorch's default weight
 * initialisation), with vigil's scoring defaults.
 */
export const REFERENCE_CONFIG = {
  init: 'torch',
  height: 28,
  width: 28,
  channels: 1,
  depth: 2,
  filters: 32,
  latent: 32,
  batchSize: 128,
  learningRate: 1e-3,
  loss: 'mse',
  aggregate: 'mean',
} as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      classes: { type: 'string', default: '0,1,2,3,4,5,6,7,8,9' },
      epochs: { type: 'string', default: '20' },
      detectors: { type: 'string', default: 'conv-ae,conv-vae' },
      patience: { type: 'string', default: '0' },
      out: { type: 'string', default: 'bench/results/fashion-mnist.md' },
    },
  });
  const dir = positionals[0] ?? DEBIAN_FASHION_MNIST_DIR;
  const classes = values.classes!.split(',').map(Number);
  const epochs = Number(values.epochs);
  const detectors = values.detectors!.split(',');
  await initEngine();
  const data = await loadFashionMnist(dir);
  const testSamples = packedSamples(data.test.images);
  const results: ClassResult[] = [];
  for (const detectorKind of detectors) {
    for (const cls of classes) {
      const train = packedSamples(data.train.images, { indices: indicesOfClass(data.train.labels, cls) });
      const detector = getDetectorFactory(detectorKind).create({ ...REFERENCE_CONFIG, epochs, patience: Number(values.patience), seed: cls });
      const report = await detector.fit(train);
      const t0 = performance.now();
      const scores = (await detector.score(testSamples)).map((r) => r.score);
      const inferSeconds = (performance.now() - t0) / 1000;
      const labels = Array.from(data.test.labels, (l) => (l === cls ? 0 : 1));
      const r: ClassResult = {
        detector: detectorKind,
        cls,
        auroc: auroc(scores, labels),
        epochs: report.epochs,
        trainSeconds: report.trainSeconds,
        trainSamplesPerSecond: (report.trainSamples * report.epochs) / report.trainSeconds,
        inferSamplesPerSecond: testSamples.length / inferSeconds,
      };
      results.push(r);
      detector.dispose();
      process.stderr.write(
        `${detectorKind} class ${cls} (${FASHION_MNIST_CLASSES[cls]}): AUROC ${(100 * r.auroc).toFixed(1)}, ${r.epochs} epochs in ${r.trainSeconds.toFixed(0)} s, ` +
          `train ${r.trainSamplesPerSecond.toFixed(0)}/s, infer ${r.inferSamplesPerSecond.toFixed(0)}/s\n`,
      );
    }
  }
  const table = formatResults(results, classes, detectors, `npm run bench -- fashion-mnist ${argv.join(' ')}`.trim());
  await mkdir(path.dirname(values.out!), { recursive: true });
  await writeFile(values.out!, table);
  process.stdout.write(table);
}

function formatResults(results: ClassResult[], classes: number[], detectors: string[], command: string): string {
  const info = engineInfo();
  const lines = [
    '# One-class Fashion-MNIST',
    '',
    `Command: \`${command}\`  `,
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, TF.js backend ${info.backend}${info.simd ? ' (SIMD)' : ''}${info.threads ? ' (threads)' : ''}  `,
    `Date: ${new Date().toISOString().slice(0, 10)}`,
    '',
    'Protocol (../shared/BENCHMARKS.md): train on the 6,000 training images of class k (10% held out for validation and the threshold), test on all 10,000 test images. Image AUROC, %.',
    '',
    `| detector | ${classes.map((c) => `${c} ${FASHION_MNIST_CLASSES[c]}`).join(' | ')} | mean | train s/class | train samples/s | infer samples/s |`,
    `|---|${classes.map(() => '---').join('|')}|---|---|---|---|`,
  ];
  for (const d of detectors) {
    const rs = results.filter((r) => r.detector === d);
    const mean = (f: (r: ClassResult) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    lines.push(
      `| vigil ${d} | ${rs.map((r) => (100 * r.auroc).toFixed(1)).join(' | ')} | **${(100 * mean((r) => r.auroc)).toFixed(1)}** | ${mean((r) => r.trainSeconds).toFixed(0)} | ${mean((r) => r.trainSamplesPerSecond).toFixed(0)} | ${mean((r) => r.inferSamplesPerSecond).toFixed(0)} |`,
    );
  }
  lines.push(
    '',
    'Peers (from ../shared/BENCHMARKS.md, same protocol): Deep SVDD 84.8, GEOM 93.5, MHRot 93.2, DN2 94.5, PANDA 95.6; the reference conv autoencoder in PyTorch 1.13 CPU (20 epochs) 90.3 (per class 90.1, 98.8, 86.5, 91.3, 88.3, 88.8, 80.2, 98.2, 83.8, 97.4), about 78 s of training per class on one thread.',
    '',
    'Throughput of the reference autoencoder (batch 128) on this machine: PyTorch 1.13 CPU about 1,850 train / 7,200 inference samples/s; TF.js wasm with a Conv2DBackpropFilter kernel added about 230 / 1,500.',
    '',
  );
  return lines.join('\n');
}
