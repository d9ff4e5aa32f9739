// Client → server publish throughput per transport, at 0 and LATENCY ms added each way by a
// relay: the page publishes N messages with at most IN_FLIGHT awaiting their acknowledgement
// (Lifeline: publish() resolving with its seq; raw ws: the server's echo; raw HTTP: one POST per
// message, its answer; socket.io: emit with an ack callback).
//   npm run bench:publish           (MESSAGES=2000 LATENCY_MESSAGES=500 LATENCY=50 IN_FLIGHT=100)
import { startFaultRelay } from '../lib/fault-relay.mjs';
import { prepare } from '../lib/prepare.mjs';
import { num, ratio, report } from '../lib/report.mjs';
import { launchBrowser, openRow, rows as allRows, startServers } from '../lib/systems.mjs';

const MESSAGES = Number(process.env.MESSAGES ?? 2000);
const LATENCY_MESSAGES = Number(process.env.LATENCY_MESSAGES ?? 500);
const LATENCY = Number(process.env.LATENCY ?? 50);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 100);
const rows = allRows
  .filter((row) => !['raw-ws-100', 'raw-lp'].includes(row.id))
  .map((row) => (row.id === 'raw-sse' ? { ...row, id: 'raw-post', label: 'raw HTTP, one POST per message' } : row));

prepare();
const servers = await startServers();
const browser = await launchBrowser();
const results = {};
try {
  for (const row of rows) {
    results[row.id] = { label: row.label };
    for (const latency of [0, LATENCY]) {
      const count = latency === 0 ? MESSAGES : LATENCY_MESSAGES;
      const relay = await startFaultRelay(servers[row.server].port, { latency });
      const handle = await openRow(browser, row, relay.origin);
      try {
        await handle.call('publishMany', Math.min(100, count), IN_FLIGHT);
        const ms = await handle.call('publishMany', count, IN_FLIGHT);
        results[row.id][latency] = { count, ms, rate: count / (ms / 1000) };
      } finally {
        await handle.close();
        await relay.close();
      }
      console.error(`publish: ${row.label}, +${latency} ms: ${num(results[row.id][latency].rate)}/s`);
    }
  }
} finally {
  await browser.close();
  await servers.close();
}

report(
  'publish',
  [
    {
      title: `Client publish throughput, acknowledged publishes per second, ${IN_FLIGHT} in flight at most`,
      header: ['client', 'through the relay, +0 ms', `+${LATENCY} ms each way`, `÷ Lifeline WS at +${LATENCY} ms`],
      rows: rows.map(({ id }) => {
        const x = results[id];
        return [x.label, num(x[0].rate), num(x[LATENCY].rate), ratio(x[LATENCY].rate, results['lifeline-ws'][LATENCY].rate)];
      }),
      notes: `${num(MESSAGES)} publishes at +0 ms, ${num(LATENCY_MESSAGES)} at +${LATENCY} ms. The bench server raises Lifeline's publishRate (100/s per connection by default) out of the way.`,
    },
  ],
  { messages: MESSAGES, latencyMessages: LATENCY_MESSAGES, latency: LATENCY, inFlight: IN_FLIGHT, results },
);
