/** Registers every built-in detector with the registry (import for its side effect). */
export { convAeFactory, convVaeFactory } from './conv-ae/detector.js';
