import { makeRandomHexSource } from './makeRandomHexSource.js';

/** A random, valid (non-zero) span id: 16 lower-case hex digits. */
export const makeSpanId: () => string = makeRandomHexSource(8, 512);
