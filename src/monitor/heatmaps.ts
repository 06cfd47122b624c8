/**
 * Heat-map overlays of the most recently scored images, kept in memory (bounded by count and bytes)
 * and rendered to PNG on first request: scoring never waits for PNG encoding.
 */
import { randomBytes } from 'node:crypto';
import type { AnomalyMap, Image } from '../core/types.js';
import { encodePng, heatmapOverlay } from '../data/images.js';

interface Entry {
  image: Image;
  map: Float32Array;
  png: Buffer | null;
  bytes: number;
}

/** Nearest-neighbour resample of a map to the image's size (maps of some detectors are coarser). */
function mapToImage(map: AnomalyMap, height: number, width: number): Float32Array {
  if (map.height === height && map.width === width) return map.values;
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(map.height - 1, Math.floor((y * map.height) / height));
    for (let x = 0; x < width; x++) out[y * width + x] = map.values[sy * map.width + Math.min(map.width - 1, Math.floor((x * map.width) / width))]!;
  }
  return out;
}

export class HeatmapCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 512,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** Keeps an image and its map; returns the id the PNG is served under. */
  put(image: Image, map: AnomalyMap): string {
    const id = randomBytes(9).toString('base64url');
    const values = mapToImage(map, image.height, image.width);
    let finite = true;
    for (let i = 0; i < values.length && finite; i++) finite = Number.isFinite(values[i]!);
    const safe = finite ? values : values.map((v) => (Number.isFinite(v) ? v : 0));
    const bytes = image.data.byteLength + safe.byteLength;
    this.entries.set(id, { image, map: safe, png: null, bytes });
    this.bytes += bytes;
    this.evict();
    return id;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The overlay PNG, or null when the id is unknown or was evicted. */
  async png(id: string): Promise<Buffer | null> {
    const e = this.entries.get(id);
    if (!e) return null;
    if (!e.png) {
      const over = heatmapOverlay(e.image, e.map, { alpha: 0.5 });
      const raw = new Uint8Array(over.data.length);
      for (let i = 0; i < raw.length; i++) raw[i] = Math.round(Math.min(1, Math.max(0, over.data[i]!)) * 255);
      const png = await encodePng(raw, over.height, over.width, 3);
      // The entry may have been evicted while encoding.
      if (this.entries.get(id) === e) {
        this.bytes += png.byteLength - e.bytes;
        e.bytes = png.byteLength;
        e.png = png;
        e.image = { ...e.image, data: new Float32Array(0) };
        e.map = new Float32Array(0);
      }
      return png;
    }
    return e.png;
  }

  private evict(): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= e.bytes;
    }
  }
}
