import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** vigil's own version, written into every saved model. */
export const VIGIL_VERSION: string = (require('../../package.json') as { version: string }).version;
