// Fan-out: one publish to 1,000 and 10,000 WebSocket subscribers, Lifeline (its server,
// memory broker, a `publish` through the bench endpoint) against a raw ws loop (one send per
// socket), each server in its own process and the subscribers in PROCESSES load-generator
// processes. A sample is the time from just before the trigger (an HTTP POST from this
// process) to the last subscriber's arrival; p50 and p99 over SAMPLES.
//   npm run bench:fanout            (SUBSCRIBERS=1000,10000 SAMPLES=30 PROCESSES=2)
import { join } from 'node:path';
import { benchDir, prepare } from '../lib/prepare.mjs';
import { startChild } from '../lib/proc.mjs';
import { num, percentile, ratio, report } from '../lib/report.mjs';

const SUBSCRIBERS = (process.env.SUBSCRIBERS ?? '1000,10000').split(',').map(Number);
const SAMPLES = Number(process.env.SAMPLES ?? 30);
const WARM_UP = 5;
const PROCESSES = Number(process.env.PROCESSES ?? 2);
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const systems = {
  lifeline: {
    label: 'Lifeline WebSocket',
    start: () => startChild(join(benchDir, 'servers', 'lifeline.mjs'), ['{}']),
    wsUrl: (server) => `ws://127.0.0.1:${server.port}/rt/ws`,
    trigger: (server, k) => `${server.origin}/bench/fanout?k=${k}`,
  },
  raw: {
    label: 'raw ws loop',
    start: () => startChild(join(benchDir, 'servers', 'raw.mjs')),
    wsUrl: (server) => `ws://127.0.0.1:${server.port}/ws`,
    trigger: (server, k) => `${server.origin}/fanout?k=${k}`,
  },
};

async function measure(system, subscribers) {
  const server = await system.start();
  const generators = [];
  try {
    const each = Math.ceil(subscribers / PROCESSES);
    for (let p = 0; p < PROCESSES; p++) {
      generators.push(
        await startChild(
          join(benchDir, 'fanout', 'subscribers.mjs'),
          [system.wsUrl(server), String(Math.min(each, subscribers - p * each)), system === systems.raw ? 'raw' : 'lifeline'],
          {
            timeoutMs: 120_000,
          },
        ),
      );
    }
    // Wait out a bit more than one fan-out before the next sample, so samples don't overlap.
    const spacing = Math.max(100, subscribers / 10);
    const started = new Map();
    for (let k = 0; k < WARM_UP + SAMPLES; k++) {
      started.set(String(k), clock());
      const res = await fetch(system.trigger(server, k), { method: 'POST' });
      if (!res.ok) throw new Error(`trigger: HTTP ${res.status}`);
      await sleep(spacing);
    }
    await sleep(1000);
    const dumps = await Promise.all(
      generators.map(async (generator) => {
        generator.send('dump');
        return JSON.parse(await generator.nextLine());
      }),
    );
    const last = [];
    const first = [];
    let missing = 0;
    for (let k = WARM_UP; k < WARM_UP + SAMPLES; k++) {
      const parts = dumps.map((dump) => dump[k]).filter(Boolean);
      const count = parts.reduce((sum, part) => sum + part.count, 0);
      missing += subscribers - count;
      last.push(Math.max(...parts.map((part) => part.last)) - started.get(String(k)));
      first.push(Math.min(...parts.map((part) => part.first)) - started.get(String(k)));
    }
    last.sort((a, b) => a - b);
    first.sort((a, b) => a - b);
    return { p50: percentile(last, 0.5), p99: percentile(last, 0.99), firstP50: percentile(first, 0.5), missing, spacing };
  } finally {
    await Promise.all(generators.map((generator) => generator.kill()));
    await server.kill();
  }
}

prepare();
const results = {};
for (const subscribers of SUBSCRIBERS) {
  for (const [id, system] of Object.entries(systems)) {
    const result = await measure(system, subscribers);
    results[`${id}-${subscribers}`] = { label: system.label, subscribers, ...result };
    console.error(`fan-out: ${system.label}, ${num(subscribers)}: p50 ${result.p50.toFixed(1)} ms, missing ${result.missing}`);
  }
}

const goal = results['lifeline-10000'] && results['raw-10000'] ? results['lifeline-10000'].p50 / results['raw-10000'].p50 : undefined;
report(
  'fanout',
  [
    {
      title: `One publish → every subscriber, ${SAMPLES} samples after ${WARM_UP} warm-up, subscribers in ${PROCESSES} processes`,
      header: [
        'server',
        'subscribers',
        'first arrival p50 ms',
        'last arrival p50 ms',
        'last p99 ms',
        'p50 ÷ raw ws loop',
        'missed deliveries',
      ],
      rows: Object.values(results).map((x) => [
        x.label,
        num(x.subscribers),
        num(x.firstP50, 1),
        num(x.p50, 1),
        num(x.p99, 1),
        ratio(x.p50, results[`raw-${x.subscribers}`]?.p50),
        num(x.missing),
      ]),
      notes:
        goal === undefined
          ? undefined
          : `Goal (issue 17): fan-out to 10,000, p50 ≤ 1.15× raw ws loop; measured ${goal.toFixed(2)}×: ${goal <= 1.15 ? 'met' : 'missed'}.`,
    },
  ],
  {
    samples: SAMPLES,
    processes: PROCESSES,
    results,
    goal: goal === undefined ? undefined : { measured: goal, target: 1.15, met: goal <= 1.15 },
  },
);
