import { randomBytes } from 'node:crypto';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ErrorCode } from '../../protocol/index.js';
import type { Broker, BrokerHealth, PublishResult, ReadResult } from './broker.js';
import { registerJsonPublish } from './json-publish.js';
import { loadIoredis } from './load-ioredis.js';
import { createRedisBus } from './redis-bus.js';
import { createFanout } from './redis-fanout.js';
import {
  isCluster,
  isClusterNode,
  openClient,
  parseRedisAddress,
  pubSub,
  unreachableShard,
  type PubSub,
  type RedisClient,
} from './redis-links.js';
import { parseRead, publishScript, readScript, resetScript, type TrackedRead } from './redis-scripts.js';

/** Options of {@link redisBroker}. */
export interface RedisBrokerOptions {
  /**
   * Redis URL, e.g. `redis://user:pass@host:6379/0` (`rediss://` for TLS). A single address
   * may be a standalone Redis or any node of a Redis Cluster: the broker asks it (`INFO
   * cluster`) and uses a cluster client when it is one. Several comma-separated URLs
   * (`redis://a:7000,redis://b:7001`) are seeds of one cluster. Credentials, database and
   * TLS are taken from the first URL.
   */
  url: string;
  /**
   * Messages kept per channel for replay (the stream is trimmed exactly to this length).
   * @default 1000
   */
  historySize?: number;
  /**
   * How long (ms) a message stays replayable.
   * @default 300000 (5 minutes)
   */
  historyTtl?: number;
  /**
   * How long (ms) a publish id is remembered for dedup.
   * @default 120000 (2 minutes)
   */
  dedupTtl?: number;
  /**
   * Prefix of every Redis key and pub/sub channel this broker uses, so several deployments
   * can share one Redis.
   * @default 'lifeline:'
   */
  keyPrefix?: string;
  /**
   * A command with no reply after this many ms fails (a hung Redis must not hang publishes).
   * @default 5000
   */
  commandTimeout?: number;
  /**
   * How often (ms) each Redis connection is pinged. A ping without an answer within
   * `commandTimeout` drops the connection so that it reconnects and catches up: a link that
   * died silently (no RST, e.g. a network partition) would otherwise starve the live feed.
   * 0 turns the pings off.
   * @default 10000
   */
  pingInterval?: number;
  /**
   * Delay (ms) before reconnect attempt `attempt` (1, 2, …) after Redis went away.
   * @default full jitter: random × min(2000, 100 × 2^attempt)
   */
  reconnectDelay?: (attempt: number) => number;
  /**
   * Extra ioredis options (TLS, sentinel, name …), applied under the broker's own settings
   * for offline queueing, retries and subscriptions, which its guarantees depend on.
   * @default {}
   */
  redisOptions?: RedisOptions;
  /**
   * Clock used for history age and the dedup window, injectable for tests. Nodes should run
   * NTP: a skewed node trims and dedups a little early or late.
   * @default Date.now
   */
  now?: () => number;
}

/** A broker command failed because Redis is unreachable or answered with an error. */
export class RedisBrokerError extends Error {
  /** Always `BROKER_UNAVAILABLE`: the hub answers clients with this code. */
  readonly code = ErrorCode.BROKER_UNAVAILABLE;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisBrokerError';
  }
}

const nonNegative = (name: string, value: number | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`redisBroker: ${name} must be a number ≥ 0, got ${String(value)}`);
  return value;
};

/** A script registered with ioredis' defineCommand. */
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

const defaultReconnectDelay = (attempt: number) => Math.random() * Math.min(2000, 100 * 2 ** attempt);

/**
 * Whether one Redis server keeps every acknowledged write across a crash: an fsync per write
 * (`appendonly yes`, `appendfsync always`) and never promoted from a replica since it started
 * (a replica may lag its old master). Anything else, or a Redis that refuses CONFIG, counts as
 * one that may roll back, whose channels start a new epoch after it restarts.
 */
async function serverKeepsEveryWrite(server: Redis): Promise<boolean> {
  try {
    const [config, replication] = await Promise.all([server.config('GET', 'append*') as Promise<string[]>, server.info('replication')]);
    const settings = new Map<string, string>();
    for (let i = 0; i + 1 < config.length; i += 2) settings.set(config[i]!, config[i + 1]!);
    return (
      settings.get('appendonly') === 'yes' &&
      settings.get('appendfsync') === 'always' &&
      /^role:master\r?$/m.test(replication) &&
      /^master_replid2:0+\r?$/m.test(replication)
    );
  } catch {
    return false;
  }
}

/** {@link serverKeepsEveryWrite} for a standalone Redis, or for every master of a cluster. */
async function keepsEveryWrite(client: RedisClient): Promise<boolean> {
  if (!isCluster(client)) return serverKeepsEveryWrite(client);
  const masters = client.nodes('master');
  return masters.length > 0 && (await Promise.all(masters.map(serverKeepsEveryWrite))).every(Boolean);
}

/** How long garbage keys outlive their logical window, so clock skew never shortens it. */
const GC_SLACK_MS = 60_000;

/**
 * Broker for many nodes sharing one Redis, or one Redis Cluster. Each channel's history is a
 * Redis Stream whose entry ids are the seqs, assigned with the dedup check, the append, the
 * trim and the fan-out in one Lua script, so seqs are gapless and a repeated id publishes
 * nothing. Every key of a channel shares one hash tag, so in a cluster the whole channel lives
 * on one slot and its live messages travel by sharded pub/sub (SPUBLISH) to that shard only.
 * The epoch lives in Redis too and survives node restarts; if Redis loses its data, a new epoch
 * is made and old cursors get `gap`. Live messages reach every node over pub/sub, repaired from
 * the stream after any disconnect. While Redis is down, calls fail at once with
 * {@link RedisBrokerError}, `health()` is not ok, and ioredis keeps reconnecting.
 * `ioredis` is an optional peer dependency: without it this throws an error with code
 * `IOREDIS_MISSING` that says to run `npm install ioredis`.
 */
export function redisBroker(options: RedisBrokerOptions): Broker {
  if (typeof options?.url !== 'string' || options.url === '')
    throw new TypeError('redisBroker: url is required, e.g. "redis://127.0.0.1:6379"');
  const address = parseRedisAddress(options.url);
  // At once, not when the first client is opened (after the cluster check): a missing optional
  // peer is a setup mistake the caller should hear about where it called.
  loadIoredis();
  const historySize = nonNegative('historySize', options.historySize, 1000);
  const historyTtl = nonNegative('historyTtl', options.historyTtl, 300_000);
  const dedupTtl = nonNegative('dedupTtl', options.dedupTtl, 120_000);
  const commandTimeout = nonNegative('commandTimeout', options.commandTimeout, 5000);
  const pingInterval = nonNegative('pingInterval', options.pingInterval, 10_000);
  const prefix = options.keyPrefix ?? 'lifeline:';
  const clock = options.now ?? Date.now;
  // Whole milliseconds: the scripts store and parse the time as an integer.
  const now = () => Math.floor(clock());
  const reconnectDelay = options.reconnectDelay ?? defaultReconnectDelay;
  const retryStrategy = (attempt: number) => Math.max(0, Math.round(reconnectDelay(attempt)));

  const redisOptions: RedisOptions = {
    ...options.redisOptions,
    // Fail fast instead of queueing while disconnected: the client's outbox and resume do
    // the retrying, and a queued publish could land long after its client gave up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command cut off by a disconnect has already failed for its caller: never replay it later.
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout,
    retryStrategy,
  };
  let closed = false;
  let lastError: Error | undefined;
  const remember = (error: Error) => {
    lastError = error;
  };

  /** The connections, made once the broker knows whether it talks to a cluster. */
  interface Links {
    cluster: boolean;
    commands: RedisClient;
    feed: PubSub;
    publishCall: ScriptCall;
    readCall: ScriptCall;
    resetCall: ScriptCall;
    /** Whether the Redis now connected keeps every write across restarts (asked on each connect). */
    trusted: Promise<boolean>;
  }
  let links: Links | undefined;
  let detectTimer: NodeJS.Timeout | undefined;
  const everReady = new WeakSet<RedisClient>();

  // A single address may be a cluster node: ask it before opening anything for good.
  const detect = async (): Promise<boolean> => {
    if (address.seedList) return true;
    for (let attempt = 1; ; attempt++) {
      if (closed) throw new RedisBrokerError('Redis broker is closed');
      const found = await isClusterNode(address, { ...options.redisOptions, connectTimeout: commandTimeout });
      if (found !== undefined) return found;
      const { host, port } = address.seeds[0]!;
      lastError = new Error(`cannot reach Redis at ${host}:${port}`);
      await new Promise((resolve) => {
        detectTimer = setTimeout(resolve, retryStrategy(attempt));
        detectTimer.unref();
      });
    }
  };

  const open = (cluster: boolean): Links => {
    const commands = openClient(address, cluster, redisOptions);
    const feed = pubSub(openClient(address, cluster, redisOptions, { shardedSubscribers: true }));
    commands.on('error', remember);
    feed.client.on('error', remember);
    // EVALSHA with a fallback to EVAL, so a Redis that restarted (empty script cache) just works.
    commands.defineCommand('lifelinePublish', { lua: publishScript });
    commands.defineCommand('lifelineRead', { lua: readScript, numberOfKeys: 2 });
    commands.defineCommand('lifelineReset', { lua: resetScript, numberOfKeys: 2 });
    const script = (name: string) => (commands as unknown as Record<string, ScriptCall>)[name]!.bind(commands);
    return {
      cluster,
      commands,
      feed,
      publishCall: script('lifelinePublish'),
      readCall: script('lifelineRead'),
      resetCall: script('lifelineReset'),
      trusted: Promise.resolve(false),
    };
  };

  const linksReady: Promise<Links> = detect().then((cluster) => {
    if (closed) throw new RedisBrokerError('Redis broker is closed');
    links = open(cluster);
    wire(links);
    return links;
  });
  linksReady.catch(() => undefined);

  // The hash tag keeps a channel's keys in one cluster slot, as its Lua script requires. The
  // channel is escaped so that no '}' in it ends the tag early: otherwise a channel plus a
  // publish id could spell another channel's key ("a" + id "x}:meta" vs channel "a}:id:x").
  const key = (channel: string, what: string) => `${prefix}{${channel.replace(/[%}]/g, (c) => (c === '%' ? '%25' : '%7D'))}}:${what}`;
  const newEpoch = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const errorText = () => (lastError ? `: ${lastError.message}` : '');

  /** The links once known; waits at most `commandTimeout` for the first connect. */
  const current = async (): Promise<Links> => {
    if (closed) throw new RedisBrokerError('Redis broker is closed');
    if (links) return links;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisBrokerError(`Redis not reachable after ${commandTimeout} ms${errorText()}`)),
        commandTimeout,
      );
    });
    try {
      return await Promise.race([linksReady, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  /** Resolves when the connection can take commands; waits only for the very first connect. */
  const usable = async (client: RedisClient, role: string) => {
    if (closed) throw new RedisBrokerError('Redis broker is closed');
    if (client.status === 'ready') return;
    if (client.status === 'wait' || client.status === 'connecting' || client.status === 'connect') {
      if (!everReady.has(client)) {
        await firstReady(client, role);
        return;
      }
    }
    throw new RedisBrokerError(`Redis ${role} connection is ${client.status}${errorText()}`);
  };
  // One listener per connection however many calls wait for its first connect.
  const firstConnect = new WeakMap<RedisClient, Promise<void>>();
  const firstReady = async (client: RedisClient, role: string) => {
    let connected = firstConnect.get(client);
    if (!connected) {
      connected = new Promise<void>((resolve) => client.once('ready', () => resolve()));
      firstConnect.set(client, connected);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisBrokerError(`Redis ${role} connection not ready after ${commandTimeout} ms${errorText()}`)),
        commandTimeout,
      );
    });
    try {
      await Promise.race([connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const run = async <T>(what: string, role: 'command' | 'subscriber', command: (links: Links) => Promise<T>): Promise<T> => {
    const found = await current();
    await usable(role === 'command' ? found.commands : found.feed.client, role);
    try {
      return await command(found);
    } catch (error) {
      throw new RedisBrokerError(`Redis ${what} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };

  const read = (channel: string, after: number | undefined, check?: number): Promise<TrackedRead> =>
    run('read', 'command', async ({ readCall, trusted }) => {
      const start = after === undefined ? '' : `${after + 1}-0`;
      const checkId = check === undefined ? '' : `${check}-0`;
      const trust = (await trusted) ? 1 : 0;
      const reply = await readCall(key(channel, 'meta'), key(channel, 'log'), newEpoch(), now(), historyTtl, start, checkId, trust);
      return parseRead(channel, reply);
    });

  const fanout = createFanout({
    listen: (names) => run('subscribe', 'subscriber', ({ feed }) => feed.subscribe(names)),
    unlisten: (name) => run('unsubscribe', 'subscriber', ({ feed }) => feed.unsubscribe(name)),
    read,
    reset: (channel, epoch) => run('reset', 'command', ({ resetCall }) => resetCall(key(channel, 'meta'), key(channel, 'log'), epoch)),
    liveName: (channel) => key(channel, 'live'),
  });

  /** Feeds the fan-out, and repairs it once both connections are back after a reconnect. */
  function wire(found: Links) {
    const { commands, feed } = found;
    // Asked before any call on the new connection can run (this listener comes first).
    commands.on('ready', () => {
      found.trusted = keepsEveryWrite(commands);
    });
    feed.onMessage((name, payload) => fanout.onMessage(name, payload));
    const resync = () => {
      if (commands.status === 'ready' && feed.client.status === 'ready') void fanout.resync(!feed.resubscribes);
    };
    commands.on('ready', () => {
      if (everReady.has(commands)) resync();
      everReady.add(commands);
    });
    feed.client.on('ready', () => everReady.add(feed.client));
    feed.onResubscribed(resync);
  }

  const bus = createRedisBus({
    // No command timeout: a subscribe made while Redis is down waits for it instead of failing for good.
    openSubscriber: async () => {
      const { cluster } = await linksReady;
      const busOptions: RedisOptions = {
        ...options.redisOptions,
        retryStrategy,
        enableOfflineQueue: true,
        autoResubscribe: true,
        maxRetriesPerRequest: null,
      };
      return pubSub(openClient(address, cluster, busOptions, { shardedSubscribers: true }));
    },
    // A sharded channel lives on one shard, whose SPUBLISH counts every subscriber: so a node
    // with no listener is known gone at once, in a cluster too (PUBLISH there counts one shard).
    publish: (name, payload) =>
      run('publish', 'command', ({ commands }) =>
        isCluster(commands) ? (commands.spublish(name, payload) as Promise<number>) : commands.publish(name, payload),
      ),
    prefix,
  });

  const ping = (client: Redis | Cluster) =>
    client.ping().catch((error: Error) => {
      if (closed || client.status !== 'ready') return;
      lastError = new Error(`ping unanswered (${error.message}); reconnecting`);
      client.disconnect(true);
    });
  const watchdog =
    pingInterval > 0
      ? setInterval(() => {
          if (!links) return;
          for (const client of [links.commands, links.feed.client]) {
            if (client.status !== 'ready') continue;
            // A cluster client reconnects node by node: ping each master it holds.
            if (isCluster(client)) for (const node of client.nodes('master')) void ping(node);
            else void ping(client);
          }
        }, pingInterval)
      : undefined;
  watchdog?.unref();

  /** Runs the publish script for the JSON text of the data, which `encode` gives. */
  const publishEncoded = (channel: string, encode: () => string, id: string | undefined) =>
    run('publish', 'command', async ({ publishCall, cluster, trusted }): Promise<PublishResult> => {
      const trust = (await trusted) ? 1 : 0;
      const keys = [key(channel, 'meta'), key(channel, 'log')];
      if (id !== undefined) keys.push(key(channel, `id:${id}`));
      const args = [
        newEpoch(),
        now(),
        historySize,
        historyTtl,
        dedupTtl,
        encode(),
        key(channel, 'live'),
        Math.ceil(historyTtl + GC_SLACK_MS),
        Math.ceil(dedupTtl + GC_SLACK_MS),
        randomBytes(6).toString('base64url'),
        cluster ? 'SPUBLISH' : 'PUBLISH',
        trust,
      ];
      const [epoch, seq, duplicate] = (await publishCall(keys.length, ...keys, ...args)) as [string, number, number];
      return { epoch, seq, duplicate: duplicate === 1 };
    });

  const publish: Broker['publish'] = (channel, data, id) => publishEncoded(channel, () => JSON.stringify(data) ?? 'null', id);
  registerJsonPublish(publish, (channel, json, id) => publishEncoded(channel, () => json, id));

  return {
    publish,

    async read(channel, after): Promise<ReadResult> {
      const { epoch, head, first, messages } = await read(channel, after);
      return { epoch, head, first, messages: messages.map(({ nonce: _nonce, ...message }) => message) };
    },

    subscribe: (channel, listener) => fanout.subscribe(channel, listener),

    bus,

    health(): BrokerHealth {
      if (closed) return { ok: false, detail: 'Redis broker is closed' };
      if (!links) return { ok: false, detail: `Redis not reached yet${errorText()}` };
      const { commands, feed } = links;
      if (isCluster(commands)) {
        const broken = unreachableShard(commands);
        if (broken) return { ok: false, detail: broken };
        if (feed.client.status !== 'ready')
          return { ok: false, detail: `Redis Cluster subscriber connection ${feed.client.status}${errorText()}` };
        return { ok: true };
      }
      const down = [commands, feed.client].find((client) => client.status !== 'ready');
      if (!down) return { ok: true };
      return {
        ok: false,
        detail: `Redis ${down === commands ? 'command' : 'subscriber'} connection ${down.status}${errorText()}`,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(watchdog);
      clearTimeout(detectTimer);
      fanout.clear();
      bus.close();
      if (!links) return;
      await Promise.all(
        [links.commands, links.feed.client].map(async (client) => {
          if (client.status === 'ready') await client.quit().catch(() => undefined);
          client.disconnect();
        }),
      );
    },
  };
}
