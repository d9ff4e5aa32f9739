// In-process costs of the server, without a network in the way:
// - `server.publish()` with the memory broker at history 100 / 1,000 / 10,000 (full history, so
//   every publish also trims one message), next to the broker's own `publish()`;
// - the Redis broker's time per publish inside Redis (INFO commandstats: usec_per_call of the
//   publish script's EVALSHA), on a private redis-server started on a free loopback port.
// Run with `npm run bench:micro` (bench/micro/run.mjs bundles this file); prints a table and
// writes bench/results/micro.json. PUBLISHES and REDIS_PUBLISHES in the environment change the
// counts (defaults 200000 and 20000).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Broker } from '../../src/server/brokers/broker.js';
import { memoryBroker } from '../../src/server/brokers/memory.js';
import { redisBroker } from '../../src/server/brokers/redis.js';
import { createServer } from '../../src/server/server.js';
import { startRedis } from '../../test/helpers/redis.js';

const PUBLISHES = Number(process.env.PUBLISHES ?? 200_000);
const REDIS_PUBLISHES = Number(process.env.REDIS_PUBLISHES ?? 20_000);
const HISTORIES = [100, 1_000, 10_000];
const ROUNDS = 5;
const payload = { text: 'x'.repeat(100) };

interface Row {
  measure: string;
  history: number;
  /** Fastest round, µs per publish: the least disturbed by other work on the machine. */
  best: number;
  /** Median over the rounds, µs per publish. */
  median: number;
  /** Every round, µs per publish. */
  rounds: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** µs per call of `publish`, awaited one at a time; `count` calls per round. */
async function timeSequential(publish: () => Promise<unknown>, count: number): Promise<number[]> {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    globalThis.gc?.();
    const started = performance.now();
    for (let i = 0; i < count; i++) await publish();
    rounds.push(((performance.now() - started) * 1000) / count);
  }
  return rounds;
}

async function memoryRows(history: number): Promise<Row[]> {
  const rows: Row[] = [];
  // Bytes budgets high enough that the count is what trims.
  const brokerOptions = { historySize: history, maxHistoryBytes: 1 << 30, maxTotalHistoryBytes: 1 << 30 };
  {
    const broker = memoryBroker(brokerOptions);
    for (let i = 0; i < history + 1000; i++) await broker.publish('bench', payload);
    const rounds = await timeSequential(() => broker.publish('bench', payload), PUBLISHES);
    rows.push({ measure: 'memoryBroker().publish()', history, best: Math.min(...rounds), median: median(rounds), rounds });
    await broker.close();
  }
  {
    const broker: Broker = memoryBroker(brokerOptions);
    const server = createServer({ broker });
    for (let i = 0; i < history + 1000; i++) await server.publish('bench', payload);
    const rounds = await timeSequential(() => server.publish('bench', payload), PUBLISHES);
    rows.push({ measure: 'server.publish(), memory broker', history, best: Math.min(...rounds), median: median(rounds), rounds });
    await server.close();
    await broker.close();
  }
  return rows;
}

/** Redis' own time per publish script call, from INFO commandstats. */
async function redisRow(url: string, history: number): Promise<Row> {
  const admin = new Redis(url);
  const broker = redisBroker({ url, keyPrefix: `micro-${history}:`, historySize: history });
  try {
    for (let i = 0; i < history + 200; i++) await broker.publish('bench', payload);
    const rounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await admin.config('RESETSTAT');
      for (let i = 0; i < REDIS_PUBLISHES / ROUNDS; i++) await broker.publish('bench', payload);
      const stats = (await admin.info('commandstats')) as string;
      const line = stats.split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
      const usec = line ? Number(/usec_per_call=([\d.]+)/.exec(line)?.[1]) : Number.NaN;
      rounds.push(usec);
    }
    return {
      measure: 'Redis time per publish (EVALSHA usec_per_call)',
      history,
      best: Math.min(...rounds),
      median: median(rounds),
      rounds,
    };
  } finally {
    await broker.close();
    admin.disconnect();
  }
}

async function main() {
  const rows: Row[] = [];
  if (!process.argv.includes('--redis-only')) for (const history of HISTORIES) rows.push(...(await memoryRows(history)));
  if (!process.argv.includes('--memory-only')) {
    const redis = await startRedis();
    try {
      for (const history of [1_000]) rows.push(await redisRow(redis.url, history));
    } finally {
      await redis.dispose();
    }
  }
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
  console.log(`Node ${machine.node}, ${machine.cpus} × ${machine.cpu}; best and median of ${ROUNDS} rounds`);
  console.log(`(${PUBLISHES} in-process publishes per round, ${REDIS_PUBLISHES / ROUNDS} Redis publishes per round)`);
  console.log('');
  console.log('| measure | history | µs per publish, best | median | every round |');
  console.log('|---|---:|---:|---:|---|');
  for (const row of rows) {
    console.log(
      `| ${row.measure} | ${row.history.toLocaleString('en-US')} | ${row.best.toFixed(2)} | ${row.median.toFixed(2)} | ${row.rounds.map((r) => r.toFixed(2)).join(' ')} |`,
    );
  }
  // run.mjs names the directory: this file runs bundled, from under node_modules.
  const results = process.env.BENCH_RESULTS ?? 'bench/results';
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'micro.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2)}\n`);
}

await main();
