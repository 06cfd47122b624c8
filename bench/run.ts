/**
 * `npm run bench -- <name> [args]`: runs one benchmark; each writes its table to bench/results/.
 */
import { describeError } from '../src/core/errors.js';

const benches: Record<string, { file: string; about: string }> = {
  'fashion-mnist': { file: './fashion-mnist.js', about: 'one-class Fashion-MNIST AUROC, conv-ae vs conv-vae, throughput [dir] [--classes 0,1] [--epochs N]' },
  'fashion-mnist-knn': { file: './fashion-mnist-knn.js', about: 'one-class Fashion-MNIST AUROC, kNN on pretrained backbone features (DN2) [dir] [--size 112] [--k 2]' },
  'magnetic-tile': { file: './magnetic-tile.js', about: 'magnetic tile defects: PaDiM, PatchCore, conv-ae <dir>' },
  nearest: { file: './nearest.js', about: 'PatchCore nearest-neighbour search ms per image vs bank size, ONNX Runtime vs TF.js [--banks 1024,4096]' },
  nab: { file: './nab.js', about: 'Numenta Anomaly Benchmark score <dir>' },
  odds: { file: './odds.js', about: 'ODDS tables AUROC vs isolation forest <dir>' },
  'few-labels': { file: './few-labels.js', about: 'semi-supervised conv-ae with 0/1/5% labelled anomalies: fashion-mnist [dir] | magnetic-tile <dir>' },
  tune: { file: './tune.js', about: 'vigil tune vs the default config, and the search cost: <fashion-mnist-dir|magnetic-tile-dir> [--budget 13] [--study]' },
  service: { file: './service.js', about: 'vigil serve: ingest points/s, image/point latency, RSS [--minutes 1]' },
  kernels: { file: './kernels.js', about: 'GFLOP/s of vigil\'s wasm conv kernels' },
  speed: { file: './speed.js', about: 'reference autoencoder train/inference samples/s, side by side with PyTorch' },
};

const [name, ...args] = process.argv.slice(2);
if (!name || !benches[name]) {
  process.stderr.write(`usage: npm run bench -- <name> [args]\n${Object.entries(benches).map(([k, v]) => `  ${k.padEnd(14)} ${v.about}`).join('\n')}\n`);
  process.exit(2);
}
try {
  const mod = (await import(benches[name]!.file)) as { main(args: string[]): Promise<void> };
  await mod.main(args);
} catch (e) {
  process.stderr.write(describeError(e) + '\n');
  if (process.env.VIGIL_DEBUG) console.error(e);
  process.exit(1);
}
