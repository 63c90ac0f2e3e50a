import { makeRandomHexSource } from './makeRandomHexSource.js';

/** A random, valid (not all zeros) trace id: 32 lower-case hex digits, as the SDK's own id generator makes them. */
export const makeTraceId: () => string = makeRandomHexSource(16, 256);
