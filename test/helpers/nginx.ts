// Debian's nginx for tests: a site config (one of docs/deploy/) inside a wrapper whose pid,
// logs and temp files live in a temp directory, on a free loopback port; stopped by pid.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis.js';

const run = promisify(execFile);
const NGINX = '/usr/sbin/nginx';
const READY_TIMEOUT_MS = 10_000;

/** A private nginx started by a test. */
export interface NginxProcess {
  port: number;
  /** `nginx -s reload`: new workers take new connections, old ones finish theirs. */
  reload(): Promise<void>;
  /** Stops nginx and removes its directory. */
  dispose(): Promise<void>;
}

/** Options of {@link startNginx}. */
export interface StartNginxOptions {
  /**
   * nginx.conf's `worker_shutdown_timeout` (main context): how long an old worker keeps its
   * connections after a reload.
   * @default '2s'
   */
  workerShutdownTimeout?: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Reads a documented site config and points it at this test's addresses: each `[from, to]`
 * must occur in the file, so a changed document fails the test instead of testing something else.
 */
export function siteConfig(file: URL, replacements: [string, string][]): string {
  let text = readFileSync(file, 'utf8');
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`${file.pathname} no longer contains "${from}"`);
    text = text.split(from).join(to);
  }
  return text;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Starts nginx with `site` (an http-context config that must `listen 127.0.0.1:<port>`, where
 * `port` is passed to `makeSite`) and resolves once it accepts connections. Fails (never
 * skips) when nginx is missing.
 */
export async function startNginx(makeSite: (port: number) => string, options: StartNginxOptions = {}): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-nginx-'));
  // Workers run as nobody when the tests run as root: they must reach their temp directories.
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, 'site.conf'), makeSite(port));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${join(dir, kind)};`).join('\n');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      `worker_shutdown_timeout ${options.workerShutdownTimeout ?? '2s'};`,
      'events { worker_connections 512; }',
      'http {',
      '    access_log off;',
      temp,
      `    include ${join(dir, 'site.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-c', conf, '-p', `${dir}/`, '-e', join(dir, 'error.log')];
  const child = spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const failed = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ENOENT'
          ? new Error('nginx is not installed (apt-get install nginx): the nginx tests need it and never skip')
          : error,
      ),
    );
  });
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await listening(port))) {
    const error = await Promise.race([failed, new Promise<undefined>((resolve) => setTimeout(resolve, 50))]);
    if (error || child.exitCode !== null || Date.now() > deadline) {
      await dispose();
      throw error ?? new Error(`nginx did not listen on ${port}:\n${output}`);
    }
  }
  return {
    port,
    async reload() {
      await run(NGINX, [...args, '-s', 'reload']);
    },
    dispose,
  };
}
