import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'lifeline-server.js');

/** The API key every e2e server is started with, for `POST {path}/publish`. */
export const API_KEY = 'e2e-key';

/** A `lifeline-server` running as a child process (the built CLI). */
export interface ServerProcess {
  /** Base URL as printed by the CLI, e.g. `http://127.0.0.1:4123/rt`. */
  readonly url: string;
  readonly port: number;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `node bin/lifeline-server.js --port <port> --api-key e2e-key` and resolves once it
 * prints `listening on http://…`. Fails after `timeoutMs`, or if the process exits first.
 */
export function startServerProcess(options: { port?: number; args?: string[]; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const args = [bin, '--port', String(options.port ?? 0), '--api-key', API_KEY, ...(options.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`lifeline-server ${why}; output:\n${output}`));
    };
    const timer = setTimeout(() => fail(`printed no URL within ${options.timeoutMs ?? 10_000} ms`), options.timeoutMs ?? 10_000);
    const early = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited (${code ?? signal}) before listening`);
    child.once('exit', early);
    const read = (chunk: Buffer) => {
      output += chunk;
      const found = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (!found) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout?.off('data', read);
      // Keep draining so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      const url = found[1]!.replace(/\/$/, '');
      resolve({
        url,
        port: Number(new URL(url).port),
        async kill(signal = 'SIGKILL') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
  });
}

/** Publishes through the HTTP API of a server started with {@link API_KEY}. */
export async function publishHttp(url: string, channel: string, data: unknown): Promise<{ seq: number; epoch: string }> {
  const res = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });
  if (!res.ok) throw new Error(`POST ${url}/publish: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { seq: number; epoch: string };
}
