#!/usr/bin/env node
// `npm start`: build when dist/ lacks the CLI or the script-tag bundle, then run the server on
// $PORT (default 3000) with the demo page at / and dist/lifeline.min.js at /lifeline.min.js,
// and the demo's ticker publishing to `ticker`. Extra arguments go to the CLI:
// `npm start -- --api-key k`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = ['dist/cli.js', 'dist/lifeline.min.js'].every((file) => existsSync(new URL(`../${file}`, import.meta.url)));
if (!built) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// The ticker publishes through the HTTP API, so the server needs an API key: the one given,
// or a random one for this run.
const extra = process.argv.slice(2);
const given = parseArgs({ args: extra, strict: false, options: { 'api-key': { type: 'string' } } }).values['api-key'];
const apiKey = typeof given === 'string' ? given : randomBytes(16).toString('hex');
// The CLI prints its URL once listening (port 0, --host and --path included): the ticker starts there.
const listening = new Promise((resolve) => {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const found = /listening on (\S+)/.exec(String(chunk));
    if (found) {
      process.stdout.write = write;
      resolve(found[1]);
    }
    return write(chunk, ...rest);
  };
});
// The CLI reads process.argv when imported, and then owns SIGTERM/SIGINT in this process.
process.argv = [
  process.argv[0],
  process.argv[1],
  '--port',
  process.env.PORT || '3000',
  '--demo',
  ...(typeof given === 'string' ? [] : ['--api-key', apiKey]),
  ...extra,
];
await import('../dist/cli.js');
const { startTicker } = await import('../demo/ticker.js');
const url = await listening;
// What a first-time user needs next: where the demo is, what to give createClient, and the key
// the publish API takes (random unless given, so it is shown once here).
process.stdout.write(
  [
    `  demo:          ${new URL('/', url).href}`,
    `  endpoint base: ${url}    createClient('${url}')`,
    `  API key:       ${apiKey}`,
    `  publish:       curl -H 'Authorization: Bearer ${apiKey}' -d '{"channel":"chat","data":"hi"}' ${url}/publish`,
    '',
  ].join('\n'),
);
startTicker({ url, apiKey });
