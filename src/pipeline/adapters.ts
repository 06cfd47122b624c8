/** Registers the input adapter of every input kind (import for its side effect). */
import './image-input.js';
import './series-input.js';
import './table-input.js';
