// The size budget, enforced by `npm test`: the script-tag build and the smallest useful
// à-la-carte build (core + WebSocket) must stay under their brotli budgets, and the à-la-carte
// build must carry no SSE or long-polling code (tree-shaking proven by bundling a consumer).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brotliSize, bundleConsumer, bytes, distFile, gzipSize } from './dist-helpers.js';

/** dist/lifeline.min.js, brotli at max quality. The goal is 3,584 (half of phoenix.js). */
const SCRIPT_TAG_BUDGET = 4096;
/**
 * `lifeline-rt/core` + `lifeline-rt/websocket` bundled together by an application. Issue 5 asks for
 * 2,560, which this design cannot reach (README "Size" says what each feature costs); until a
 * smaller design lands, this cap stops the measured 3,730 from growing unnoticed.
 */
const CORE_WEBSOCKET_BUDGET = 3840;

const coreWebSocketConsumer = `
import { createClient } from 'lifeline-rt/core';
import { websocket } from 'lifeline-rt/websocket';
const client = createClient('https://example.test/rt', { transports: [websocket] });
client.subscribe('chat').on('message', (data) => console.log(data));
globalThis.client = client;
`;

// Strings that only the SSE and long-polling transports carry: their endpoints and wire details.
// (Not `EventSource` alone: the core names it among the injectable constructors.)
const sseOrLongPollMarkers = ['sse?cid', 'poll?cid', 'send?cid', '&ack=', '"connect"', 'Bearer '];
/** Which of `markers` occur in `code` (a list, so a failure names them without dumping the bundle). */
const present = (code: string, markers: readonly string[]) => markers.filter((marker) => code.includes(marker));

function report(label: string, code: string | Uint8Array, budget?: number): number {
  const brotli = brotliSize(code);
  const budgetText = budget === undefined ? '' : ` (budget ${bytes(budget)}, ${bytes(budget - brotli)} to spare)`;
  console.log(`[size] ${label}: ${bytes(code.length)} min, ${bytes(gzipSize(code))} gzip, ${bytes(brotli)} brotli${budgetText}`);
  return brotli;
}

describe('size budget', () => {
  it(`dist/lifeline.min.js is at most ${SCRIPT_TAG_BUDGET} bytes brotli`, () => {
    const code = readFileSync(distFile('lifeline.min.js'));
    expect(report('dist/lifeline.min.js', code, SCRIPT_TAG_BUDGET)).toBeLessThanOrEqual(SCRIPT_TAG_BUDGET);
  });

  it(`lifeline-rt/core + lifeline-rt/websocket bundle to at most ${CORE_WEBSOCKET_BUDGET} bytes brotli`, async () => {
    const code = await bundleConsumer(coreWebSocketConsumer);
    const size = report('lifeline-rt/core + lifeline-rt/websocket (esbuild, minified)', code, CORE_WEBSOCKET_BUDGET);
    expect(size).toBeLessThanOrEqual(CORE_WEBSOCKET_BUDGET);
  });

  it('lifeline-rt/core + lifeline-rt/websocket carry no SSE or long-poll code (tree-shaking)', async () => {
    const code = await bundleConsumer(coreWebSocketConsumer);
    expect(present(code, ['/ws'])).toEqual(['/ws']);
    expect(present(code, sseOrLongPollMarkers), 'SSE or long-poll code in a WebSocket-only build').toEqual([]);
  });

  it('the same markers do appear when a consumer imports the SSE and long-poll transports (the check above can fail)', async () => {
    const code = await bundleConsumer(`
      import { createClient } from 'lifeline-rt/core';
      import { sse } from 'lifeline-rt/sse';
      import { longpoll } from 'lifeline-rt/longpoll';
      globalThis.client = createClient('https://example.test/rt', { transports: [sse, longpoll] });
    `);
    expect(present(code, sseOrLongPollMarkers)).toEqual(sseOrLongPollMarkers);
  });

  it('lifeline-rt (all transports) as an application bundles it: printed for the record, with every transport in it', async () => {
    const code = await bundleConsumer(
      `import { createClient } from 'lifeline-rt'; globalThis.client = createClient('https://example.test/rt');`,
    );
    report('lifeline-rt (esbuild, minified)', code);
    expect(present(code, ['/ws', ...sseOrLongPollMarkers])).toEqual(['/ws', ...sseOrLongPollMarkers]);
  });
});
