// Publish throughput and fan-out latency of each broker: memory, one Redis, a 3-master Redis
// Cluster. Run with `node bench/brokers/run.mjs` (it bundles this file with esbuild); the
// redis-servers are started on free loopback ports and killed afterwards.
import { performance } from 'node:perf_hooks';
import type { Broker } from '../../src/server/brokers/broker.js';
import { memoryBroker } from '../../src/server/brokers/memory.js';
import { redisBroker } from '../../src/server/brokers/redis.js';
import { startRedis } from '../../test/helpers/redis.js';
import { startRedisCluster } from '../../test/helpers/redis-cluster.js';

const PUBLISHES = Number(process.env.PUBLISHES ?? 5000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const LATENCY_SAMPLES = Number(process.env.LATENCY_SAMPLES ?? 2000);
const CHANNELS = 64;
const payload = { text: 'x'.repeat(100) };

interface Row {
  broker: string;
  sequential: number;
  concurrent: number;
  spread: number;
  p50: number;
  p99: number;
}

/** Publishes `count` messages with at most `inFlight` outstanding; returns publishes per second. */
async function throughput(broker: Broker, count: number, inFlight: number, channel: (i: number) => string): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = next++;
        await broker.publish(channel(i), payload);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** One message at a time from `from`, timed until `to`'s listener has it; ms percentiles. */
async function fanOutLatency(from: Broker, to: Broker, samples: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  let arrived: (() => void) | undefined;
  const stop = await to.subscribe('latency', () => arrived?.());
  for (let i = 0; i < samples; i++) {
    const got = new Promise<void>((resolve) => (arrived = resolve));
    const started = performance.now();
    await from.publish('latency', payload);
    await got;
    times.push(performance.now() - started);
  }
  stop();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function measure(name: string, make: () => Broker, shared: boolean): Promise<Row> {
  const publisher = make();
  // A second node for fan-out, when the broker links nodes; the memory broker has only one.
  const subscriber = shared ? make() : publisher;
  try {
    await throughput(publisher, 500, IN_FLIGHT, () => 'warm-up');
    const sequential = await throughput(publisher, Math.min(PUBLISHES, 2000), 1, () => 'one');
    const concurrent = await throughput(publisher, PUBLISHES, IN_FLIGHT, () => 'one');
    const spread = await throughput(publisher, PUBLISHES, IN_FLIGHT, (i) => `ch-${i % CHANNELS}`);
    const { p50, p99 } = await fanOutLatency(publisher, subscriber, LATENCY_SAMPLES);
    return { broker: name, sequential, concurrent, spread, p50, p99 };
  } finally {
    await publisher.close();
    if (subscriber !== publisher) await subscriber.close();
  }
}

const whole = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);

async function main() {
  const [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  try {
    const rows = [
      await measure('memory', () => memoryBroker(), false),
      await measure('one Redis', () => redisBroker({ url: redis.url, keyPrefix: 'bench:' }), true),
      await measure('3-master Redis Cluster', () => redisBroker({ url: cluster.url, keyPrefix: 'bench:' }), true),
    ];
    console.log(
      `Node ${process.version}, ${PUBLISHES} publishes of ~110 B, ${IN_FLIGHT} in flight; fan-out latency over ${LATENCY_SAMPLES} messages one at a time`,
    );
    console.log('');
    console.log(
      '| broker | publishes/s, 1 in flight | publishes/s, one channel | publishes/s, 64 channels | fan-out p50 ms | fan-out p99 ms |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      console.log(
        `| ${row.broker} | ${whole(row.sequential)} | ${whole(row.concurrent)} | ${whole(row.spread)} | ${ms(row.p50)} | ${ms(row.p99)} |`,
      );
    }
  } finally {
    await Promise.all([redis.dispose(), cluster.dispose()]);
  }
}

await main();
