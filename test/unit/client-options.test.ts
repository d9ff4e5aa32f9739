// Option checks as a first-time user meets them. The sources are the development build, so
// the messages here are its sentences (the production build's are checked in test/build).
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createClient } from '../../src/index.js';
import { fakeTransports } from '../helpers/fake-transport.js';

let warn: MockInstance<typeof console.warn>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  warn.mockRestore();
});

const create = (options: Record<string, unknown>, url = 'https://x.test/rt') => createClient(url, options as never).close();

describe('client options', () => {
  it.each([
    [
      'transports as a string',
      { transports: 'websocket' },
      /transports must be a non-empty array of 'websocket', 'sse', 'longpoll' or transport factories, not the string "websocket"/,
    ],
    ['a misspelled transport name', { transports: ['ws'] }, /'websocket', 'sse', 'longpoll'.*not the string "ws"/],
    ['reconnect as a number', { reconnect: 5 }, /reconnect must be an object such as \{ initialDelay: 500, maxDelay: 10000 \}, not 5/],
    ['a negative delay', { reconnect: { initialDelay: -1 } }, /reconnect.initialDelay must be a number from 0 to 2147483647/],
    ['a string timeout', { connectTimeout: '10s' }, /connectTimeout must be a number .*, not the string "10s"/],
    ['rememberTransport as a string', { rememberTransport: 'yes' }, /rememberTransport must be true or false/],
    ['a numeric token', { token: 42 }, /token must be a string, or a function/],
    ['fetch that is not a function', { fetch: 'fetch' }, /fetch must be a function/],
  ])('refuses %s with a TypeError naming the option and what it must be', (_, options, message) => {
    expect(() => create(options)).toThrow(TypeError);
    expect(() => create(options)).toThrow(message);
  });

  it.each([
    ['a relative path', '/rt'],
    ['a ws: URL', 'ws://x.test/rt'],
    ['nothing', undefined],
  ])('refuses %s as the URL, naming the fix', (_, url) => {
    expect(() => createClient(url as string)).toThrow(/url must be the server's absolute http\(s\) base URL/);
  });

  it('warns once per misspelled key, naming the likely one, and ignores it', () => {
    create({ reconect: { initialDelay: 1 }, transport: ['sse'], transports: fakeTransports().factories });
    create({ reconect: { initialDelay: 1 }, transports: fakeTransports().factories });
    const warnings = warn.mock.calls.map((call) => String(call[0]));
    expect(warnings).toEqual([
      'lifeline: unknown option reconect is ignored (did you mean reconnect?)',
      'lifeline: unknown option transport is ignored (did you mean transports?)',
    ]);
  });

  it('warns about a reconnect field given at the top level and does not apply it', () => {
    create({ initialDelay: 1, transports: fakeTransports().factories });
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/unknown option initialDelay is ignored/);
  });

  it('warns once when no WebSocket is available for the websocket transport (Node 20)', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      create({ transports: ['websocket', 'longpoll'], fetch: () => new Promise(() => {}) });
      create({ transports: ['websocket'], fetch: () => new Promise(() => {}) });
      const warnings = warn.mock.calls.map((call) => String(call[0])).filter((text) => text.includes('no global WebSocket'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/createClient\(url, \{ WebSocket \}\)/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
