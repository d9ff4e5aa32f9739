#!/usr/bin/env node
// The CLI lives in the build; `npm run build` (or `npm start`) produces it.
import('../dist/cli.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('lifeline-server: dist/cli.js is missing; run `npm run build` first');
    process.exit(1);
  }
  throw error;
});
