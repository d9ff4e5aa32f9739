// Round trip per transport: the page publishes one message and times it until it comes back
// to the page (Lifeline: publish → its own message through the subscription; raw ws: an echo;
// raw SSE / long poll: a POST echoed back down the stream or poll; socket.io: an emit echoed),
// one at a time.
//   npm run bench:round-trip        (SAMPLES=300)
import { prepare } from '../lib/prepare.mjs';
import { num, percentile, ratio, report } from '../lib/report.mjs';
import { launchBrowser, openRow, rows, startServers } from '../lib/systems.mjs';

const SAMPLES = Number(process.env.SAMPLES ?? 300);
const chosen = rows.filter((row) => row.id !== 'raw-ws-100');
/** The raw row each row is compared with. */
const peerOf = {
  'lifeline-ws': 'raw-ws-1',
  'lifeline-sse': 'raw-sse',
  'lifeline-lp': 'raw-lp',
  'sio-ws': 'raw-ws-1',
  'sio-polling': 'raw-lp',
};

prepare();
const servers = await startServers();
const browser = await launchBrowser();
const results = {};
try {
  for (const row of chosen) {
    const handle = await openRow(browser, row, servers[row.server].origin);
    try {
      const times = await handle.page.evaluate(async (samples) => {
        for (let i = 0; i < 20; i++) await window.benchClient.roundTrip();
        const times = [];
        for (let i = 0; i < samples; i++) times.push(await window.benchClient.roundTrip());
        return times;
      }, SAMPLES);
      times.sort((a, b) => a - b);
      results[row.id] = { label: row.label, p50: percentile(times, 0.5), p99: percentile(times, 0.99), samples: SAMPLES };
      console.error(`round trip: ${row.label}: p50 ${results[row.id].p50.toFixed(2)} ms`);
    } finally {
      await handle.close();
    }
  }
} finally {
  await browser.close();
  await servers.close();
}

report(
  'round-trip',
  [
    {
      title: `Round trip page → server → page, one at a time, ${SAMPLES} samples`,
      header: ['client', 'p50 ms', 'p99 ms', 'p50 ÷ raw on the same transport'],
      rows: chosen.map(({ id }) => {
        const x = results[id];
        return [x.label, num(x.p50, 2), num(x.p99, 2), peerOf[id] ? ratio(x.p50, results[peerOf[id]].p50) : '—'];
      }),
    },
  ],
  { samples: SAMPLES, results },
);
