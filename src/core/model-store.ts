/**
 * The model directory: `manifest.json` plus binary files, written atomically and verified on read.
 *
 * Writing goes to a sibling temp folder that is fsynced and renamed over the target, so a crash leaves
 * either the old model or the new one, never a half-written one. Each file's size and SHA-256 are
 * recorded in the manifest and checked on load; the manifest itself carries a format version.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VigilError } from './errors.js';
import { VIGIL_VERSION } from './version.js';

export const MODEL_FORMAT = 'vigil-model';
export const MODEL_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export interface FileEntry {
  bytes: number;
  sha256: string;
}

/** What every saved model says about itself. `detector`-specific state lives in `state`. */
export interface Manifest {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  vigilVersion: string;
  createdAt: string;
  /** Detector kind, e.g. 'conv-ae'. */
  kind: string;
  inputKind: 'image' | 'series' | 'table';
  /** Hyper-parameters the detector was built with (validated config). */
  config: Record<string, unknown>;
  /** Input description: shape, channels, column names... */
  input: Record<string, unknown>;
  /** Pre-processing fitted on training data (normalisation statistics). */
  preprocess: Record<string, unknown>;
  /** Post-processing: threshold and score normalisation (see scoring/postprocess.ts). */
  postprocess: Record<string, unknown>;
  /** Detector-specific small state (JSON); large arrays go to files. */
  state: Record<string, unknown>;
  /** Training summary (history, timings) for reports and the dashboard. */
  training: Record<string, unknown> | null;
  files: Record<string, FileEntry>;
}

export type ManifestDraft = Omit<Manifest, 'format' | 'formatVersion' | 'vigilVersion' | 'createdAt' | 'files'>;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  }
}

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Writes `draft` and `files` to `dir` atomically, replacing any model already there.
 * @returns the manifest as written.
 */
export async function writeModelDir(dir: string, draft: ManifestDraft, files: Record<string, Uint8Array>): Promise<Manifest> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  try {
    await fs.mkdir(parent, { recursive: true });
  } catch (e) {
    throw new VigilError('E_IO', `${parent}: cannot create the model's parent folder (${(e as Error).message})`, { path: parent });
  }
  const entries: Record<string, FileEntry> = {};
  for (const [name, data] of Object.entries(files)) {
    if (!SAFE_NAME.test(name) || name === MANIFEST_FILE) {
      throw new VigilError('E_IO', `model file name "${name}" is not allowed`, { name });
    }
    entries[name] = { bytes: data.byteLength, sha256: sha256(data) };
  }
  const manifest: Manifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    vigilVersion: VIGIL_VERSION,
    createdAt: new Date().toISOString(),
    ...draft,
    files: entries,
  };
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tmp-${suffix}`);
  const retired = path.join(parent, `.${path.basename(target)}.old-${suffix}`);
  try {
    await fs.mkdir(staging);
    for (const [name, data] of Object.entries(files)) await writeFileSynced(path.join(staging, name), data);
    // The manifest is written last: a folder without one is never a model.
    await writeFileSynced(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await syncDir(staging);
    let hadOld = false;
    try {
      await fs.rename(target, retired);
      hadOld = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fs.rename(staging, target);
    await syncDir(parent);
    if (hadOld) await fs.rm(retired, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof VigilError) throw e;
    throw new VigilError('E_IO', `${target}: cannot write the model (${(e as Error).message})`, { path: target }, { cause: e });
  }
  return manifest;
}

/** Reads and validates the manifest only (cheap: no binary files). */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(path.resolve(dir), MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new VigilError('E_NOT_FOUND', `${dir}: not a vigil model folder (no ${MANIFEST_FILE})`, { path: dir });
    }
    throw new VigilError('E_IO', `${file}: cannot read (${(e as Error).message})`, { path: file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new VigilError('E_MODEL_CORRUPT', `${file}: manifest is not valid JSON (${(e as Error).message})`, { path: file });
  }
  return validateManifest(parsed, file);
}

function validateManifest(m: unknown, file: string): Manifest {
  const fail = (what: string): never => {
    throw new VigilError('E_MODEL_CORRUPT', `${file}: ${what}`, { path: file });
  };
  if (typeof m !== 'object' || m === null) return fail('manifest is not an object');
  const r = m as Record<string, unknown>;
  if (r.format !== MODEL_FORMAT) return fail(`field "format" is ${JSON.stringify(r.format)}, expected "${MODEL_FORMAT}"`);
  if (typeof r.formatVersion !== 'number') return fail('field "formatVersion" is missing');
  if (r.formatVersion > MODEL_FORMAT_VERSION) {
    throw new VigilError(
      'E_MODEL_INCOMPATIBLE',
      `${file}: model format version ${r.formatVersion} was written by vigil ${String(r.vigilVersion)}; this vigil (${VIGIL_VERSION}) reads up to version ${MODEL_FORMAT_VERSION}`,
      { path: file, formatVersion: r.formatVersion },
    );
  }
  for (const key of ['kind', 'inputKind'] as const) if (typeof r[key] !== 'string') fail(`field "${key}" is missing or not a string`);
  for (const key of ['config', 'input', 'preprocess', 'postprocess', 'state', 'files'] as const) {
    if (typeof r[key] !== 'object' || r[key] === null) fail(`field "${key}" is missing or not an object`);
  }
  for (const [name, entry] of Object.entries(r.files as Record<string, unknown>)) {
    const e = entry as Record<string, unknown>;
    if (!SAFE_NAME.test(name) || typeof e?.bytes !== 'number' || typeof e?.sha256 !== 'string') fail(`files entry "${name}" is malformed`);
  }
  return r as unknown as Manifest;
}

/** Reads the manifest and every binary file it lists, checking sizes and checksums. */
export async function readModelDir(dir: string): Promise<{ manifest: Manifest; files: Record<string, Buffer> }> {
  const manifest = await readManifest(dir);
  const files: Record<string, Buffer> = {};
  for (const [name, entry] of Object.entries(manifest.files)) {
    const file = path.join(path.resolve(dir), name);
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      throw new VigilError('E_MODEL_CORRUPT', `${file}: listed in the manifest but missing`, { path: file });
    }
    if (data.byteLength !== entry.bytes) {
      throw new VigilError('E_MODEL_CORRUPT', `${file}: ${data.byteLength} bytes, the manifest says ${entry.bytes} (truncated or replaced)`, { path: file });
    }
    if (sha256(data) !== entry.sha256) {
      throw new VigilError('E_MODEL_CORRUPT', `${file}: checksum mismatch (the file is corrupted)`, { path: file });
    }
    files[name] = data;
  }
  return { manifest, files };
}

/** Float32 arrays <-> bytes (little-endian, as on every platform Node runs on). */
export function float32ToBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function bytesToFloat32(bytes: Uint8Array, what: string): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new VigilError('E_MODEL_CORRUPT', `${what}: ${bytes.byteLength} bytes is not a whole number of float32 values`);
  // Copy so the result is aligned regardless of the source buffer's offset.
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
