// Time to first message with the WebSocket upgrade working, refused (HTTP 403 from a proxy) or
// blackholed (accepted, never answered), through a relay in front of each server: from
// creating the client until a message published by the page has come back to it. Lifeline
// with its default transports; socket.io by default (polling first, then the upgrade) and
// websocket-first with tryAllTransports; raw ws shows what the platform alone does.
//   npm run bench:first-message     (RUNS=3 TIMEOUT=20000)
import { startFaultRelay } from '../lib/fault-relay.mjs';
import { prepare } from '../lib/prepare.mjs';
import { median, num, report } from '../lib/report.mjs';
import { launchBrowser, openRow, startServers } from '../lib/systems.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const TIMEOUT = Number(process.env.TIMEOUT ?? 20_000);
const modes = ['pass', 'refuse', 'blackhole'];
const rows = [
  { id: 'lifeline', label: 'Lifeline (websocket, sse, longpoll)', server: 'lifeline', make: ['lifeline', 'default'] },
  { id: 'sio-default', label: 'socket.io default (polling, then upgrade)', server: 'socketio', make: ['socketIo', 'default'] },
  { id: 'sio-ws-first', label: 'socket.io websocket-first, tryAllTransports', server: 'socketio', make: ['socketIo', 'websocket-first'] },
  { id: 'raw-ws', label: 'raw ws', server: 'raw', make: ['rawWs', 1] },
];

prepare();
const servers = await startServers();
const browser = await launchBrowser();
const results = {};
try {
  for (const row of rows) {
    results[row.id] = { label: row.label };
    for (const mode of modes) {
      const runs = [];
      for (let run = 0; run < RUNS; run++) {
        const relay = await startFaultRelay(servers[row.server].port, { upgrade: mode });
        const handle = await openRow(browser, row, relay.origin, { create: false });
        try {
          const outcome = await handle.page.evaluate(
            async ({ make, origin, timeout }) => {
              const [factory, ...args] = make;
              const started = performance.now();
              const attempt = (async () => {
                const client = await window.benchClients[factory](origin, ...args);
                // Lifeline's factory already waited for its own message; the others do it now.
                if (factory !== 'lifeline') await client.roundTrip();
                return { ms: performance.now() - started, transport: client.transport?.() };
              })();
              const timer = new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), timeout));
              return Promise.race([attempt, timer]).catch((error) => ({ failed: String(error?.message ?? error) }));
            },
            { make: row.make, origin: relay.origin, timeout: TIMEOUT },
          );
          runs.push(outcome);
        } finally {
          await handle.close();
          await relay.close();
        }
        if (runs.at(-1).ms === undefined) break;
      }
      const times = runs.filter((r) => r.ms !== undefined).map((r) => r.ms);
      results[row.id][mode] = {
        runs,
        ms: times.length === runs.length ? median(times) : undefined,
        transport: runs.at(-1).transport,
        outcome: runs.at(-1).timedOut
          ? `no message in ${TIMEOUT / 1000} s`
          : runs.at(-1).failed
            ? `failed: ${runs.at(-1).failed}`
            : undefined,
      };
      console.error(
        `first message: ${row.label}, upgrade ${mode}: ${results[row.id][mode].ms?.toFixed(0) ?? results[row.id][mode].outcome}`,
      );
    }
  }
} finally {
  await browser.close();
  await servers.close();
}

const cell = (x) => (x.ms !== undefined ? `${num(x.ms)} (${x.transport ?? '?'})` : x.outcome);
report(
  'first-message',
  [
    {
      title: `Time to first message, ms (transport that carried it), median of ${RUNS}`,
      header: ['client', 'upgrade works', 'upgrade refused (403)', 'upgrade blackholed'],
      rows: rows.map(({ id }) => [results[id].label, ...modes.map((mode) => cell(results[id][mode]))]),
    },
  ],
  { runs: RUNS, timeout: TIMEOUT, results },
);
