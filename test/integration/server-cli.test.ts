// The `lifeline-server` command, run from the build as users run it (needs `npm run build` first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRaw, http, upgradeStatus } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/lifeline-server.js', import.meta.url));
const start = fileURLToPath(new URL('../../scripts/start.js', import.meta.url));
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], script = bin, env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
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
      // Not origins: the message names the value meant.
      [['--allow-origin', 'localhost:5173'], /--allow-origin must be an origin .*: use --allow-origin http:\/\/localhost:5173$/m],
      [['--allow-origin', 'http://x.example/app'], /no path.*: use --allow-origin http:\/\/x\.example$/m],
    ] as const;
    const runs = cases.map(([args]) => run([...args]));
    for (const [i, [args, message]] of cases.entries()) {
      expect((await runs[i]!.exited).code, args.join(' ')).toBe(2);
      expect(runs[i]!.stderr(), args.join(' ')).toMatch(message);
    }
  });

  it('takes --allow-origin with a trailing slash, and logs a refused origin on stderr with the flag and the near miss', async () => {
    const r = run(['--port', '0', '--allow-origin', 'http://localhost:5173/']);
    const url = await listening(r);
    const allowed = await http(`${url}/health`, { headers: { Origin: 'http://localhost:5173' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect((await http(`${url}/health`, { headers: { Origin: 'http://127.0.0.1:5173' } })).status).toBe(403);
    await waitFor(() => expect(r.stderr()).toContain('refused origin "http://127.0.0.1:5173"'));
    expect(r.stderr()).toContain('--allow-origin http://127.0.0.1:5173');
    expect(r.stderr()).toContain('127.0.0.1 and localhost are different origins');
  });
});

describe('npm start', () => {
  it('prints the demo URL, the endpoint base and the API key it chose, which the publish API takes', async () => {
    const r = run([], start, { PORT: '0' });
    await waitFor(() => expect(r.stdout()).toMatch(/API key: +[0-9a-f]{32}\n/), 30_000);
    const base = /endpoint base: +(http:\/\/127\.0\.0\.1:\d+\/rt) /.exec(r.stdout())![1]!;
    expect(r.stdout()).toContain(`demo:          ${new URL('/', base).href}\n`);
    expect(r.stdout()).toContain(`createClient('${base}')`);
    const key = /API key: +([0-9a-f]{32})/.exec(r.stdout())![1]!;
    const published = await http(`${base}/publish`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: '{"channel":"c","data":1}',
    });
    expect(published).toMatchObject({ status: 200, body: { channel: 'c', seq: 1 } });
    // The base URL a browser opens names the endpoints instead of a bare 404.
    const page = await http(base, { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain(`${new URL(base).pathname}/ws`);
  });
});
