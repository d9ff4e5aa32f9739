// The `lifeline-server` command, run from the build as users run it (needs `npm run build` first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRaw, http, upgradeStatus } from '../helpers/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/lifeline-server.js', import.meta.url));
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for the "listening on" line and returns the URL in it. */
async function listening(r: Run): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(r.stdout());
    if (match) return match[1]!;
    if (Date.now() > deadline || r.child.exitCode !== null)
      throw new Error(`no "listening on" line; stdout: ${r.stdout()} stderr: ${r.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(() => {
  if (!existsSync(new URL('../../dist/cli.js', import.meta.url))) {
    throw new Error('dist/cli.js is missing: run `npm run build` before these tests (`npm test` does)');
  }
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('lifeline-server', () => {
  it('prints one "listening on" line, publishes through the API, and on SIGTERM closes WebSockets with 1012 and exits 0', async () => {
    const r = run(['--port', '0', '--api-key', 'k']);
    const url = await listening(r);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rt$/);
    expect(r.stdout().trim().split('\n')).toHaveLength(1);
    const publish = () =>
      http(`${url}/publish`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: '{"channel":"c","data":1}' });
    expect((await publish()).body).toMatchObject({ channel: 'c', seq: 1 });
    expect((await publish()).body).toMatchObject({ channel: 'c', seq: 2 });
    const ws = await connectRaw('websocket', url);
    const sse = await connectRaw('sse', url);
    r.child.kill('SIGTERM');
    expect((await ws.ended).code).toBe(1012);
    expect((await sse.ended).code).toBe(1012);
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it('honours --path, --heartbeat, --history, --allow-origin and --allowed-host, and exits 0 on SIGINT', async () => {
    const r = run([
      '--port',
      '0',
      '--path',
      '/live',
      '--heartbeat',
      '1234',
      '--history',
      '2',
      '--allow-origin',
      'https://a.example',
      '--allow-origin',
      'https://b.example',
      '--allowed-host',
      'rt.example.com',
    ]);
    const url = await listening(r);
    expect(url).toMatch(/\/live$/);
    const c = await connectRaw('longpoll', url, { origin: 'https://b.example' });
    expect(c.messages[0]![0]).toMatchObject({ type: 'welcome', heartbeat: 1234 });
    expect((await http(`${url}/health`, { headers: { Origin: 'https://c.example' } })).status).toBe(403);
    expect((await upgradeStatus(url, { Host: 'rt.example.com' })).status).toBe(101);
    expect((await upgradeStatus(url, { Host: 'evil.example' })).status).toBe(403);
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(0);
  });

  it('prints help with exit 0, and exits 2 with a clear message for bad flags', async () => {
    const help = run(['--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.stdout()).toMatch(/--api-key/);
    const cases = [
      [['--bogus'], /bogus/],
      [['--port', 'abc'], /--port must be a whole number/],
      [['--port', '70000'], /--port/],
      [['--heartbeat', '-5'], /heartbeat/],
      [['--path', 'no-slash'], /path/],
      [['--redis', 'notaurl'], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
      [['--redis', 'http://127.0.0.1:6379'], /--redis must be/],
    ] as const;
    const runs = cases.map(([args]) => run([...args]));
    for (const [i, [args, message]] of cases.entries()) {
      expect((await runs[i]!.exited).code, args.join(' ')).toBe(2);
      expect(runs[i]!.stderr(), args.join(' ')).toMatch(message);
    }
  });
});
