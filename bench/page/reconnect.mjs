// Reconnect gap and loss when every socket is destroyed mid-stream: the server sends N
// messages, one every INTERVAL ms; after KILL_AFTER ms a relay in front of it destroys every
// socket it carries (page ↔ server) at once. Measured in the page: the longest silence between
// two arrivals, messages lost (never arrived) and duplicated (arrived twice).
//   npm run bench:reconnect         (RUNS=3 MESSAGES=400 INTERVAL=10 KILL_AFTER=1500)
import { startFaultRelay } from '../lib/fault-relay.mjs';
import { prepare } from '../lib/prepare.mjs';
import { median, num, report } from '../lib/report.mjs';
import { launchBrowser, openRow, rows as allRows, startServers } from '../lib/systems.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const MESSAGES = Number(process.env.MESSAGES ?? 400);
const INTERVAL = Number(process.env.INTERVAL ?? 10);
const KILL_AFTER = Number(process.env.KILL_AFTER ?? 1500);
const rows = allRows.filter((row) => row.server !== 'raw');

prepare();
const servers = await startServers();
const browser = await launchBrowser();
const results = {};
try {
  for (const row of rows) {
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      const relay = await startFaultRelay(servers[row.server].port);
      const handle = await openRow(browser, row, relay.origin);
      try {
        await handle.call('stream', MESSAGES, INTERVAL);
        await new Promise((resolve) => setTimeout(resolve, KILL_AFTER));
        relay.destroyAll();
        // Done when the last message arrived, or when the stream should long have ended.
        const deadline = MESSAGES * INTERVAL + 15_000;
        await handle.page
          .waitForFunction((last) => window.benchClient.streamResult().arrivals.some(([s]) => s === last), MESSAGES - 1, {
            timeout: deadline,
            polling: 100,
          })
          .catch(() => {});
        const { arrivals } = await handle.call('streamResult');
        const seen = new Set(arrivals.map(([s]) => s));
        const times = arrivals.map(([, t]) => t).sort((a, b) => a - b);
        let gap = 0;
        for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
        runs.push({ gap, lost: MESSAGES - seen.size, duplicated: arrivals.length - seen.size, destroyed: relay.stats.destroyed });
      } finally {
        await handle.close();
        await relay.close();
      }
    }
    results[row.id] = {
      label: row.label,
      runs,
      gap: median(runs.map((r) => r.gap)),
      lost: median(runs.map((r) => r.lost)),
      duplicated: median(runs.map((r) => r.duplicated)),
    };
    console.error(`reconnect: ${row.label}: gap ${results[row.id].gap.toFixed(0)} ms, lost ${results[row.id].lost}`);
  }
} finally {
  await browser.close();
  await servers.close();
}

report(
  'reconnect',
  [
    {
      title: `Every socket destroyed after ${KILL_AFTER} ms of a stream of ${MESSAGES} messages, one per ${INTERVAL} ms; median of ${RUNS}`,
      header: ['client', 'longest silence ms', 'lost', 'duplicated', 'lost per run', 'silence per run ms'],
      rows: rows.map(({ id }) => {
        const x = results[id];
        return [
          x.label,
          num(x.gap),
          num(x.lost),
          num(x.duplicated),
          x.runs.map((r) => r.lost).join(', '),
          x.runs.map((r) => num(r.gap)).join(', '),
        ];
      }),
      notes: 'socket.io runs with its defaults: connection state recovery is opt-in there, so what was sent while it was away is lost.',
    },
  ],
  { runs: RUNS, messages: MESSAGES, interval: INTERVAL, killAfter: KILL_AFTER, results },
);
