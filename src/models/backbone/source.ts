/**
 * Where a backbone comes from: a folder (or its model.json) on disk, or an http(s) URL; and the
 * default, the ImageNet MobileNet v1 that the project's shared data holds next to the repository.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True for http:// and https:// sources. */
export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * The project root: the nearest folder above this module holding a package.json (works from
 * `src/` under tsx and from a compiled `dist/src/`).
 */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The shared ImageNet MobileNet v1 (TF.js layers format): `<project>/../shared/data/mobilenet_v1`. */
export function defaultBackboneDir(): string {
  return path.resolve(projectRoot(), '../shared/data/mobilenet_v1');
}

/** True when the default backbone's model.json is present. */
export function defaultBackboneAvailable(): boolean {
  return existsSync(path.join(defaultBackboneDir(), 'model.json'));
}

/**
 * A source as it is stored in a model's config: URLs unchanged, paths made absolute (so a saved
 * model finds its backbone from any working directory); null/undefined → the default backbone.
 */
export function resolveBackboneSource(source: string | null | undefined): string {
  if (source === null || source === undefined || source === '') return defaultBackboneDir();
  return isUrl(source) ? source : path.resolve(source);
}
