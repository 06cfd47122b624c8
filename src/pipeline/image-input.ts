/**
 * Image input: data-set layouts (MVTec AD, magnetic tile, a plain folder) and single files, decoded at
 * the size and channel count the model was built for.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.js';
import type { ImageSample } from '../core/types.js';
import { listImageFiles, readImages } from '../data/images.js';
import { loadImageDataset, loadSamples } from '../data/layouts.js';
import { registerInputAdapter, type InputAdapter, type InputDescription } from './inputs.js';

export interface ImageInput {
  height: number;
  width: number;
  channels: 1 | 3;
}

export function imageInput(input: InputDescription, where = 'model input'): ImageInput {
  const { height, width, channels } = input as Partial<ImageInput>;
  if (typeof height !== 'number' || typeof width !== 'number' || (channels !== 1 && channels !== 3)) {
    throw new VigilError('E_MODEL_CORRUPT', `${where}: no image size/channels (got ${JSON.stringify(input)})`);
  }
  return { height, width, channels };
}

async function kindOf(p: string): Promise<'file' | 'dir'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    throw new VigilError('E_NOT_FOUND', `${p}: no such file or folder`, { path: p });
  }
}

export const imageAdapter: InputAdapter<ImageSample> = {
  kind: 'image',
  async loadTrain(dir, input, progress) {
    const { height, width, channels } = imageInput(input);
    if ((await kindOf(dir)) !== 'dir') throw new VigilError('E_CONFIG', `${dir}: a training data set must be a folder`, { path: dir });
    const layout = await loadImageDataset(dir);
    if (layout.train.length === 0) throw new VigilError('E_EMPTY', `${dir}: the ${layout.layout} layout has no normal training images`, { path: dir });
    const normal = await loadSamples(layout.train, { channels, size: { height, width }, progress });
    const anomalies = layout.trainAnomalies.length > 0 ? await loadSamples(layout.trainAnomalies, { channels, size: { height, width } }) : [];
    return { normal, anomalies, layout: layout.layout };
  },
  async loadTest(dir, input, progress) {
    const { height, width, channels } = imageInput(input);
    const layout = await loadImageDataset(dir);
    if (layout.test.length === 0) throw new VigilError('E_EMPTY', `${dir}: the ${layout.layout} layout has no test images`, { path: dir });
    return loadSamples(layout.test, { channels, size: { height, width }, progress });
  },
  async loadForScoring(p, input, progress) {
    const { height, width, channels } = imageInput(input);
    const files = (await kindOf(p)) === 'dir' ? await listImageFiles(p, { recursive: true }) : [p];
    if (files.length === 0) throw new VigilError('E_EMPTY', `${p}: no PNG/JPEG images in this folder or below it`, { path: p });
    const images = await readImages(files, { channels, size: { height, width }, progress, label: 'decode' });
    return images.map((image, i) => ({ image, source: path.resolve(files[i]!) }));
  },
};

registerInputAdapter(imageAdapter);
