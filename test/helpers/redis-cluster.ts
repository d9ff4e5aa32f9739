// A real 3-master Redis Cluster for tests: three redis-servers with cluster mode on free
// loopback ports, joined by `redis-cli --cluster create`, killed by pid and removed afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis.js';

const run = promisify(execFile);

/** A private Redis Cluster started by a test. */
export interface RedisClusterProcess {
  /** Seed list of every master, `redis://127.0.0.1:<p1>,redis://127.0.0.1:<p2>,…`. */
  url: string;
  /** `redis://127.0.0.1:<port>` of each master, in slot order (the first serves slot 0). */
  nodes: string[];
  ports: number[];
  /** The sharded pub/sub channels each master has subscribers for, by master. */
  shardChannels(): Promise<string[][]>;
  /** Kills master `index` with SIGKILL, as a crashed machine: its slots become unreachable. */
  kill(index: number): Promise<void>;
  /** Starts killed master `index` again on its port and directory: it rejoins with its slots, without data. */
  restart(index: number): Promise<void>;
  /** Kills every server (SIGKILL: nothing to keep) and removes their directories. */
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

// A test that dies half-way must not leave redis-servers behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const launch = (port: number, dir: string) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '2000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server (cluster) on port ${port} not ready after ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new Error('redis-server is not installed (apt-get install redis-server)', { cause: error }) : error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server (cluster) on port ${port} exited with ${code} before it was ready:\n${output}`));
    });
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.off('data', onOutput);
        child.removeAllListeners('exit');
        running.add(child);
        child.once('exit', () => running.delete(child));
        resolve(child);
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  });

const info = async (port: number) => (await run('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'])).stdout;

/**
 * Starts a 3-master Redis Cluster (no replicas) on free loopback ports, and resolves once every
 * node reports `cluster_state:ok`. Fails (never skips) when redis-server is missing.
 */
export async function startRedisCluster(): Promise<RedisClusterProcess> {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const kill = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  const dispose = async () => {
    await Promise.all(children.map(kill));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'lifeline-cluster-'));
      dirs.push(dir);
      children.push(await launch(port, dir));
      ports.push(port);
    }
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: READY_TIMEOUT_MS,
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const port of ports) {
      while (!(await info(port)).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`Redis Cluster node ${port} not ok after ${READY_TIMEOUT_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const nodes = ports.map((port) => `redis://127.0.0.1:${port}`);
    const shardChannels = () =>
      Promise.all(
        ports.map(async (port) =>
          (await run('redis-cli', ['-p', String(port), 'PUBSUB', 'SHARDCHANNELS'])).stdout.split('\n').filter(Boolean),
        ),
      );
    const restart = async (index: number) => {
      await kill(children[index]!);
      children[index] = await launch(ports[index]!, dirs[index]!);
      const until = Date.now() + READY_TIMEOUT_MS;
      while (!(await info(ports[index]!)).includes('cluster_state:ok')) {
        if (Date.now() > until) throw new Error(`Redis Cluster node ${ports[index]} not ok after restart`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    return { url: nodes.join(','), nodes, ports, shardChannels, kill: (index) => kill(children[index]!), restart, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
