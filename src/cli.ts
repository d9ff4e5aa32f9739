/**
 * The `lifeline-server` command: the reference server with the memory broker.
 * Importing this module runs it (bin/lifeline-server.js imports the built dist/cli.js).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { redisBroker } from './server/brokers/redis.js';
import type { ServerOptions } from './server/options.js';
import { normalizeOrigin } from './server/origin.js';
import { createServer } from './server/server.js';

const usage = `Usage: lifeline-server [options]

  --port <n>             port to listen on; 0 picks a free one (default 3000)
  --host <host>          interface to bind (default 127.0.0.1)
  --path <path>          base path of the endpoints (default /rt)
  --heartbeat <ms>       heartbeat interval (default 25000)
  --history <n>          messages kept per channel for replay (default 1000)
  --api-key <key>        enable POST {path}/publish with "Authorization: Bearer <key>"
  --allow-origin <url>   allow a page from another origin, as scheme://host[:port], e.g.
                         http://localhost:5173 (repeatable; "*" allows all; localhost and
                         127.0.0.1 are different origins)
  --allowed-host <name>  a Host name to answer to besides IP addresses and localhost, e.g. the
                         public name a proxy passes on (repeatable; ".example.com" takes its
                         subdomains, "*" every name)
  --redis <url>          share history and fan-out with other nodes through Redis; a Redis
                         Cluster node is detected, or give seeds: redis://a:7000,redis://b:7001
                         (needs ioredis: npm install ioredis)
  --demo                 serve the demo page at / and dist/lifeline.min.js
  --help                 show this help
`;

/** A command-line mistake: printed with the usage hint, exit code 2. */
class UsageError extends Error {}

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

function parse(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        heartbeat: { type: 'string' },
        history: { type: 'string' },
        'api-key': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'allowed-host': { type: 'string', multiple: true },
        redis: { type: 'string' },
        demo: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return values;
}

/** Checks `--redis` up front: a typo would otherwise start a node that stays degraded for good. */
function redisUrl(text: string): string {
  // A comma-separated list names seeds of one Redis Cluster.
  for (const part of text.split(',')) {
    let protocol = '';
    try {
      protocol = new URL(part.trim()).protocol;
    } catch {
      // Not a URL at all: refused below.
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:')
      throw new UsageError(`--redis must be a redis:// or rediss:// URL (or a comma-separated list of them), got "${text}"`);
  }
  return text;
}

/** Checks and normalises `--allow-origin` values: a typo would refuse the page forever. */
function allowedOrigins(values: string[]): string[] {
  return values.map((value) => {
    const result = normalizeOrigin(value);
    if ('origin' in result) return result.origin;
    const fix = result.suggestion ? `: use --allow-origin ${result.suggestion}` : '';
    throw new UsageError(
      `--allow-origin must be an origin (scheme://host[:port], e.g. http://localhost:5173) or "*", got "${value}": ${result.problem}${fix}`,
    );
  });
}

/** Serves the demo page and the script-tag bundle, read from the package next to dist/. */
function demoHandler(): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const files = new Map([
    ['/', { url: new URL('../demo/index.html', import.meta.url), type: 'text/html; charset=utf-8' }],
    ['/lifeline.min.js', { url: new URL('./lifeline.min.js', import.meta.url), type: 'text/javascript; charset=utf-8' }],
  ]);
  return (req, res, next) => {
    let pathname = '';
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // Not a URL: not a demo file.
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(pathname) : undefined;
    // The server's own answer: a 404 naming the base path that a page on another origin can read.
    if (!file) return next();
    readFile(file.url).then(
      (body) => res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-cache' }).end(body),
      // The page ships only in a checkout of the repository, where `npm run build` makes the bundle.
      () =>
        res
          .writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end('Not found: the demo runs from a checkout of the repository, after npm run build\n'),
    );
  };
}

async function main(argv: string[]): Promise<void> {
  const values = parse(argv);
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const port = whole('port', values.port, 3000, 0, 65535);
  const host = values.host ?? '127.0.0.1';
  const options: ServerOptions = {
    heartbeat: whole('heartbeat', values.heartbeat, 25_000, 10, 2 ** 31 - 1),
    historySize: whole('history', values.history, 1000, 0, 10_000_000),
    allowOrigins: allowedOrigins(values['allow-origin'] ?? []),
    allowedHosts: values['allowed-host'] ?? [],
  };
  if (values.path !== undefined) options.path = values.path;
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  if (values.demo) options.fallback = demoHandler();
  if (values.redis !== undefined) options.broker = redisBroker({ url: redisUrl(values.redis), historySize: options.historySize ?? 1000 });
  let server;
  try {
    server = createServer(options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { url } = await server.listen(port, host);
  process.stdout.write(`lifeline-server listening on ${url}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      // A broker passed in is not closed by the server.
      () => options.broker?.close().then(() => process.exit(0)) ?? process.exit(0),
      (error: unknown) => {
        process.stderr.write(`lifeline-server: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`lifeline-server: ${error.message}\nRun lifeline-server --help for the options.\n`);
    process.exit(2);
  }
  process.stderr.write(`lifeline-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
