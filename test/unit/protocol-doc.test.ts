// PROTOCOL.md is the contract users read; this keeps it in step with src/protocol.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientFrames, CloseCode, ErrorCode, serverFrames } from '../../src/protocol/index.js';

const doc = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');
const section = (heading: string) => {
  const start = doc.indexOf(`## ${heading}`);
  expect(start, `PROTOCOL.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end === -1 ? undefined : end);
};

describe('PROTOCOL.md', () => {
  it.each([
    ['Frames: client → server', clientFrames],
    ['Frames: server → client', serverFrames],
  ] as const)('documents every frame and field of "%s"', (heading, table) => {
    const text = section(heading);
    for (const [type, fields] of Object.entries(table)) {
      // Each frame has a heading naming it, one or more (`ping` / `pong`) to a line.
      expect(text, `frame "${type}"`).toMatch(new RegExp(`^### .*\`${type}\``, 'm'));
      for (const field of Object.keys(fields)) expect(text, `field "${type}.${field}"`).toContain(`"${field}"`);
    }
  });

  it('documents no frame the code does not know', () => {
    for (const [heading, table] of [
      ['Frames: client → server', clientFrames],
      ['Frames: server → client', serverFrames],
    ] as const) {
      const documented = [...section(heading).matchAll(/^### (.*)$/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((x) => x[1]));
      for (const type of documented) expect(Object.keys(table), `documented frame "${type}"`).toContain(type);
    }
  });

  it('lists every error code and every close code', () => {
    const errors = section('Error codes');
    for (const code of Object.values(ErrorCode)) expect(errors, code).toContain(`| \`${code}\` |`);
    const closes = section('Close codes');
    for (const code of Object.values(CloseCode)) expect(closes, String(code)).toContain(`| ${code} |`);
  });
});
