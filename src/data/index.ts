/** Public API of the image data layer: readers, layouts, normalisation, randomness, synthetic data. */
export {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  imageView,
  indicesOfClass,
  loadFashionMnist,
  loadIdxImages,
  loadIdxLabels,
  packImages,
  packedSamples,
  parseIdx,
  readIdx,
} from './idx.js';
export type { IdxArray, IdxData, IdxDataset, IdxDtype, IdxSplit, PackedImages, PackedSampleOptions } from './idx.js';

export {
  DEFAULT_DECODE_CONCURRENCY,
  IMAGE_EXTENSIONS,
  decodeBmp,
  encodePng,
  heatmapOverlay,
  isImageFile,
  jet,
  listImageFiles,
  mapLimit,
  readImage,
  readImages,
  readMask,
  turbo,
  writeHeatmapPng,
  writeMaskPng,
  writePng,
} from './images.js';
export type { BatchOptions, Colormap, HeatmapOptions, ImageSize, ReadImageOptions, ReadMaskOptions } from './images.js';

export {
  MAGNETIC_TILE_NORMAL,
  detectLayout,
  loadImageDataset,
  loadImageFolder,
  loadMagneticTile,
  loadMvtec,
  loadSamples,
} from './layouts.js';
export type { ImageDataset, ImageRef, LayoutKind, LoadSamplesOptions } from './layouts.js';

export { MIN_STD, applyNormalisation, checkNormalisation, fitNormalisation, invertNormalisation } from './normalise.js';
export type { Normalisation } from './normalise.js';

export { createRng } from './random.js';
export type { Rng } from './random.js';

export { trainValidationSplit } from './split.js';
export type { Split } from './split.js';

export {
  DEFECT_KINDS,
  TEXTURE_KINDS,
  generateTextureDataset,
  plantDefect,
  renderTexture,
  textureStyle,
} from './synthetic.js';
export type { DefectKind, PlantedDefect, TextureDatasetInfo, TextureDatasetOptions, TextureKind, TextureStyle } from './synthetic.js';
