/** The wire protocol shared by client and server: frames, codes, cursors, parse and encode. */
export * from './codes.js';
export * from './cursor.js';
export * from './frames.js';
export * from './schema.js';
export * from './wire.js';
