// Server → page throughput per transport, with page CPU, heap and wire bytes per message:
// Lifeline (WebSocket, SSE, long polling) beside raw ws (1 and 100 messages per frame), raw SSE,
// raw long poll and socket.io 4 (websocket, polling), in one run, one headless Chromium.
//   npm run bench:throughput        (MESSAGES=20000 SIZE=100 RUNS=3 WIRE_MESSAGES=2000)
import { startCountingProxy } from '../lib/count-proxy.mjs';
import { median, num, ratio, report } from '../lib/report.mjs';
import { join } from 'node:path';
import { benchDir, prepare } from '../lib/prepare.mjs';
import { startChild } from '../lib/proc.mjs';
import { cpuSeconds, launchBrowser, openRow, rows as allRows, startServers } from '../lib/systems.mjs';

const MESSAGES = Number(process.env.MESSAGES ?? 20_000);
const SIZE = Number(process.env.SIZE ?? 100);
const RUNS = Number(process.env.RUNS ?? 3);
const WIRE_MESSAGES = Number(process.env.WIRE_MESSAGES ?? 2000);
const WARM_UP = Math.min(2000, MESSAGES);
const ONLY = process.env.ONLY?.split(',');

// A cause check beside the Lifeline rows: the same server with a history of 10 messages per
// channel instead of 1,000 (the memory broker's trim cost grows with the history).
const rows = [
  ...allRows.slice(0, 1),
  {
    id: 'lifeline-ws-h10',
    label: 'Lifeline WebSocket, historySize 10',
    server: 'lifelineH10',
    client: 'lifeline',
    make: ['lifeline', 'websocket'],
  },
  ...allRows.slice(1),
];

prepare();
const servers = await startServers();
servers.lifelineH10 = await startChild(join(benchDir, 'servers', 'lifeline.mjs'), [JSON.stringify({ historySize: 10 })]);
const browser = await launchBrowser();
const results = {};
const chosen = rows.filter((row) => !ONLY || ONLY.includes(row.id));

try {
  for (const row of chosen) {
    const origin = servers[row.server].origin;
    const handle = await openRow(browser, row, origin);
    try {
      await handle.call('burst', WARM_UP, SIZE, false);
      const rates = [];
      const cpu = [];
      const serverCpu = [];
      for (let run = 0; run < RUNS; run++) {
        await handle.collectGarbage();
        const before = await handle.metrics();
        const serverBefore = cpuSeconds(servers[row.server].pid);
        const ms = await handle.call('burst', MESSAGES, SIZE, false);
        const after = await handle.metrics();
        serverCpu.push(((cpuSeconds(servers[row.server].pid) - serverBefore) / MESSAGES) * 1e6);
        rates.push(MESSAGES / (ms / 1000));
        cpu.push(((after.TaskDuration - before.TaskDuration) / MESSAGES) * 1e6);
      }
      // Retained heap: the page keeps every message, as an app that shows them would.
      await handle.collectGarbage();
      const heapBefore = (await handle.metrics()).JSHeapUsedSize;
      await handle.call('burst', MESSAGES, SIZE, true);
      await handle.collectGarbage();
      const heapAfter = (await handle.metrics()).JSHeapUsedSize;
      await handle.page.evaluate(() => (window.benchKept.length = 0));
      results[row.id] = {
        label: row.label,
        rate: median(rates),
        rates,
        cpuMicros: median(cpu),
        cpu,
        serverCpuMicros: median(serverCpu),
        heapBytes: (heapAfter - heapBefore) / MESSAGES,
      };
    } finally {
      await handle.close();
    }
    console.error(`throughput: ${row.label}: ${num(results[row.id].rate)} msgs/s`);
  }

  // Bytes on the wire: a smaller burst through a counting relay, every byte from the server.
  for (const row of chosen) {
    const proxy = await startCountingProxy(servers[row.server].port);
    const handle = await openRow(browser, row, proxy.origin);
    try {
      await handle.call('burst', 100, SIZE, false);
      proxy.reset();
      await handle.call('burst', WIRE_MESSAGES, SIZE, false);
      results[row.id].wireDown = proxy.counts.down / WIRE_MESSAGES;
      results[row.id].wireUp = proxy.counts.up / WIRE_MESSAGES;
    } finally {
      await handle.close();
      await proxy.close();
    }
  }
} finally {
  await browser.close();
  await servers.close();
  await servers.lifelineH10.kill();
}

const r = (id) => results[id] ?? {};
const goals = [
  [
    'server → page, WebSocket',
    'Lifeline WS ÷ raw ws 100 per frame',
    r('lifeline-ws').rate / r('raw-ws-100').rate,
    '≥ 0.5×',
    (x) => x >= 0.5,
  ],
  ['server → page, long polling', 'Lifeline LP ÷ raw long poll', r('lifeline-lp').rate / r('raw-lp').rate, '≥ 0.8×', (x) => x >= 0.8],
  ['server → page, long polling', 'Lifeline LP ÷ socket.io polling', r('lifeline-lp').rate / r('sio-polling').rate, '≥ 1×', (x) => x >= 1],
  ['server → page, SSE', 'Lifeline SSE ÷ raw SSE', r('lifeline-sse').rate / r('raw-sse').rate, '≥ 1×', (x) => x >= 1],
  [
    'page CPU per message, long polling',
    'Lifeline LP ÷ raw long poll',
    r('lifeline-lp').cpuMicros / r('raw-lp').cpuMicros,
    '≤ 1×',
    (x) => x <= 1,
  ],
  [
    'bytes per ~100 B message',
    'Lifeline WS ÷ raw ws 1 per frame',
    r('lifeline-ws').wireDown / r('raw-ws-1').wireDown,
    '≤ 1.3×',
    (x) => x <= 1.3,
  ],
  ['bytes per ~100 B message', 'Lifeline SSE ÷ raw SSE', r('lifeline-sse').wireDown / r('raw-sse').wireDown, '≤ 1.3×', (x) => x <= 1.3],
  ['bytes per ~100 B message', 'Lifeline LP ÷ raw long poll', r('lifeline-lp').wireDown / r('raw-lp').wireDown, '≤ 1.3×', (x) => x <= 1.3],
].map(([measure, what, value, goal, met]) => ({ measure, what, value, goal, met: Number.isFinite(value) ? met(value) : undefined }));

const base = r('lifeline-ws').rate;
report(
  'throughput',
  [
    {
      title: `Server → page, ${num(MESSAGES)} × ${SIZE} B, median of ${RUNS}`,
      header: [
        'client',
        'msgs/s',
        '÷ Lifeline WS',
        'page CPU µs/msg',
        'server CPU µs/msg',
        'heap B/msg kept',
        'wire B/msg down',
        'wire B/msg up',
      ],
      rows: chosen.map(({ id }) => {
        const x = r(id);
        return [
          x.label,
          num(x.rate),
          ratio(x.rate, base),
          num(x.cpuMicros, 1),
          num(x.serverCpuMicros, 1),
          num(x.heapBytes),
          num(x.wireDown, 1),
          num(x.wireUp, 1),
        ];
      }),
    },
    {
      title: 'Goals (issue 17)',
      header: ['measure', 'ratio', 'measured', 'goal', 'met'],
      rows: goals.map((g) => [
        g.measure,
        g.what,
        Number.isFinite(g.value) ? `${g.value.toFixed(2)}×` : '—',
        g.goal,
        g.met === undefined ? '—' : g.met ? 'yes' : 'no',
      ]),
    },
  ],
  { messages: MESSAGES, size: SIZE, runs: RUNS, wireMessages: WIRE_MESSAGES, results, goals },
);
