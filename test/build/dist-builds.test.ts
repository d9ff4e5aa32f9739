// The two builds from one source, as users get them: the production build (what an
// unconfigured consumer and dist/lifeline.min.js give) carries codes, the development build
// (the `development` export condition, dist/lifeline.js) explains every mistake.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Lifeline from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';
import { distFile } from './dist-helpers.js';

type Entry = typeof Lifeline;
const load = async (file: string): Promise<Entry> => (await import(pathToFileURL(distFile(file)).href)) as Entry;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** The errors a client of `entry` reports for `url` up to the first one of `code`, then closes it. */
async function errorsUntil(entry: Entry, url: string, options: Lifeline.ClientOptions, code: string): Promise<Lifeline.LifelineError[]> {
  const client = entry.createClient(url, { rememberTransport: false, ...options });
  const seen: Lifeline.LifelineError[] = [];
  try {
    await new Promise<void>((resolve) =>
      client.on('error', (error) => {
        seen.push(error);
        if (error.code === code) resolve();
      }),
    );
    return seen;
  } finally {
    client.close();
  }
}

describe.each([
  ['production', 'index.js'],
  ['development', 'dev/index.js'],
])('the %s build (dist/%s)', (build, file) => {
  const dev = build === 'development';

  it('reports a wrong server path as CONNECT_FAILED with what the transport saw', async () => {
    const entry = await load(file);
    // The server's origin without its /rt base path: /connect answers 404.
    const errors = await errorsUntil(entry, server.origin, { transports: ['longpoll'] }, 'CONNECT_FAILED');
    // First the server's own code, read from its error body, then the attempt's failure.
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND', 'CONNECT_FAILED']);
    const error = errors[1]!;
    expect(error.attempts).toEqual([{ transport: 'longpoll', reason: '/connect: HTTP 404 NOT_FOUND' }]);
    if (dev) {
      // Names the URL, the path and the status, and the likely fix.
      expect(error.message).toContain(`could not connect to ${server.origin}`);
      expect(error.message).toContain('/connect: HTTP 404 NOT_FOUND');
      expect(error.message).toMatch(/base path.*\/rt/);
    } else {
      expect(error.message).toBe('CONNECT_FAILED');
    }
  });

  it('rejects a nonsense option with a TypeError naming it', async () => {
    const entry = await load(file);
    const create = () => entry.createClient(server.url, { transports: 'websocket' as never });
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/transports/);
    if (dev) expect(create).toThrow(/'websocket', 'sse', 'longpoll'.*not the string "websocket"/);
    else expect(create).toThrow(/^lifeline: bad transports$/);
  });

  it(dev ? 'warns once about an unknown option, naming the likely one' : 'says nothing about unknown options', async () => {
    const entry = await load(file);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (let i = 0; i < 2; i++) entry.createClient(server.url, { reconect: {}, transports: ['longpoll'] } as never).close();
      if (dev) {
        await waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
        expect(String(warn.mock.calls[0]![0])).toMatch(/unknown option reconect .*did you mean reconnect\?/);
      } else {
        expect(warn).not.toHaveBeenCalled();
      }
    } finally {
      warn.mockRestore();
    }
  });
});

describe('the script-tag files', () => {
  const production = readFileSync(distFile('lifeline.min.js'), 'utf8');
  const development = readFileSync(distFile('lifeline.js'), 'utf8');
  // Phrases only the development build's explanations and warnings use.
  const sentences = ['did you mean', 'could not connect to', 'must be'];

  it('dist/lifeline.js is readable and carries the explanations', () => {
    expect(development.split('\n').length).toBeGreaterThan(500);
    for (const phrase of sentences) expect(development).toContain(phrase);
  });

  it('dist/lifeline.min.js carries none of them: the build drops every development branch', () => {
    expect(sentences.filter((phrase) => production.includes(phrase))).toEqual([]);
    expect(production).not.toContain('__DEV__');
  });
});
