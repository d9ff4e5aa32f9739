import { describe, expect, it } from 'vitest';
import { decodeWire, encodeWire, ErrorCode, isProblem, validateClientFrame, validateServerFrame } from '../../src/protocol/index.js';

describe('decodeWire', () => {
  it('returns the raw frames of a JSON array', () => {
    expect(decodeWire('[{"type":"ping"},{"type":"pong"}]')).toEqual([{ type: 'ping' }, { type: 'pong' }]);
  });

  it.each([
    ['not json', '{oops', ErrorCode.BAD_JSON],
    ['a bare object', '{"type":"ping"}', ErrorCode.BAD_FRAME],
    ['a string', '"hi"', ErrorCode.BAD_FRAME],
  ])('refuses %s', (_name, text, code) => {
    const result = decodeWire(text);
    expect(isProblem(result) && result.problem).toBe(code);
  });

  it('refuses messages over the length limit before parsing them', () => {
    const result = decodeWire(`[${'{"type":"ping"},'.repeat(10)}{"type":"ping"}]`, 20);
    expect(isProblem(result) && result.problem).toBe(ErrorCode.FRAME_TOO_LARGE);
  });
});

describe('validateFrame', () => {
  it('accepts a well-formed frame and keeps only known fields', () => {
    const frame = validateClientFrame({ type: 'sub', channel: 'c', since: { epoch: 'e', seq: 3, extra: 1 }, junk: true });
    expect(frame).toEqual({ type: 'sub', channel: 'c', since: { epoch: 'e', seq: 3 } });
  });

  it('treats optional fields as optional and required ones as required', () => {
    expect(validateClientFrame({ type: 'sub', channel: 'c' })).toEqual({ type: 'sub', channel: 'c' });
    const missing = validateClientFrame({ type: 'pub', id: 'a', channel: 'c' });
    expect(isProblem(missing) && missing.problem).toBe(ErrorCode.BAD_FRAME);
    expect(validateClientFrame({ type: 'pub', id: 'a', channel: 'c', data: null })).toEqual({
      type: 'pub',
      id: 'a',
      channel: 'c',
      data: null,
    });
  });

  it.each([
    ['a non-object', 42, ErrorCode.BAD_FRAME],
    ['an array', [], ErrorCode.BAD_FRAME],
    ['no type', { channel: 'c' }, ErrorCode.BAD_FRAME],
    ['an unknown type', { type: 'teleport' }, ErrorCode.UNKNOWN_TYPE],
    ['a numeric channel', { type: 'sub', channel: 1 }, ErrorCode.BAD_FRAME],
    ['an empty channel', { type: 'sub', channel: '' }, ErrorCode.BAD_FRAME],
    ['a 257-char channel', { type: 'sub', channel: 'x'.repeat(257) }, ErrorCode.BAD_FRAME],
    ['a negative seq in since', { type: 'sub', channel: 'c', since: { epoch: 'e', seq: -1 } }, ErrorCode.BAD_FRAME],
    ['a fractional seq', { type: 'sub', channel: 'c', since: { epoch: 'e', seq: 1.5 } }, ErrorCode.BAD_FRAME],
    ['a 65-char publish id', { type: 'pub', id: 'i'.repeat(65), channel: 'c', data: 1 }, ErrorCode.BAD_FRAME],
    ['a server-only frame', { type: 'welcome', v: 1, cid: 'x', heartbeat: 1, time: 1 }, ErrorCode.UNKNOWN_TYPE],
  ])('refuses %s from a client', (_name, raw, code) => {
    const result = validateClientFrame(raw);
    expect(isProblem(result) && result.problem).toBe(code);
  });

  it('does not let a __proto__ key reach the frame or Object.prototype', () => {
    const [raw] = decodeWire(
      '[{"type":"sub","channel":"c","__proto__":{"polluted":true},"since":{"epoch":"e","seq":1,"__proto__":{"polluted":true}}}]',
    ) as unknown[];
    const frame = validateClientFrame(raw) as { since: object };
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(frame.since)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect((frame as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('validates server frames with the server table', () => {
    expect(validateServerFrame({ type: 'msg', channel: 'c', epoch: 'e', seq: 1, data: { a: 1 } })).toEqual({
      type: 'msg',
      channel: 'c',
      epoch: 'e',
      seq: 1,
      data: { a: 1 },
    });
    const gap = validateServerFrame({ type: 'gap', channel: 'c', epoch: 'e', seq: 0, reason: 'lost', from: { epoch: 'x', seq: 1 } });
    expect(isProblem(gap) && gap.problem).toBe(ErrorCode.BAD_FRAME);
    const fromClient = validateServerFrame({ type: 'sub', channel: 'c' });
    expect(isProblem(fromClient) && fromClient.problem).toBe(ErrorCode.UNKNOWN_TYPE);
  });
});

describe('encodeWire', () => {
  it('round-trips through decodeWire', () => {
    const frames = [{ type: 'msg', channel: 'c', epoch: 'e', seq: 1, data: 'x' }, { type: 'ping' }] as const;
    expect(decodeWire(encodeWire(frames))).toEqual(frames);
  });
});
