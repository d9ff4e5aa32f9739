import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private redis-server started by a test. */
export interface RedisProcess {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops the server (SIGTERM: a clean shutdown, which writes the AOF when it is on). */
  stop(): Promise<void>;
  /** Kills it with SIGKILL, as a crash: nothing is written on the way out. */
  crash(): Promise<void>;
  /** Starts it again on the same port and directory (loading its RDB snapshot or AOF). */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Keep data across restarts with an append-only file (fsync on every write).
   * @default false (data is lost on restart, like a cache-only Redis)
   */
  persistent?: boolean;
}

const READY_TIMEOUT_MS = 10_000;

// A test that dies half-way must not leave redis-servers behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (free when asked: bind it soon). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const launch = (port: number, dir: string, persistent: boolean) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', persistent ? 'yes' : 'no'];
    if (persistent) args.push('--appendfsync', 'always');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} not ready after ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed (apt-get install redis-server): the Redis tests need it and never skip', {
              cause: error,
            })
          : error,
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited with ${code} before it was ready:\n${output}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!ready && output.includes('Ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        running.add(child);
        child.once('exit', () => running.delete(child));
        resolve(child);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  });

const terminate = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

/**
 * Starts a redis-server of its own on a free loopback port in a temp directory. Fails (never
 * skips) when redis-server is missing.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const persistent = options.persistent ?? false;
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port, dir, persistent);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child) await terminate(child);
      child = undefined;
    },
    async crash() {
      if (child) await terminate(child, 'SIGKILL');
      child = undefined;
    },
    async start() {
      if (!child) child = await launch(port, dir, persistent);
    },
    async dispose() {
      if (child) await terminate(child);
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
