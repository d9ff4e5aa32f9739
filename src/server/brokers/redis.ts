import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { ErrorCode } from '../../protocol/index.js';
import type { Broker, BrokerHealth, PublishResult, ReadResult } from './broker.js';
import { loadIoredis } from './load-ioredis.js';
import { createRedisBus } from './redis-bus.js';
import { createFanout } from './redis-fanout.js';
import { parseRead, publishScript, readScript, resetScript, type TrackedRead } from './redis-scripts.js';

/** Options of {@link redisBroker}. */
export interface RedisBrokerOptions {
  /** Redis URL, e.g. `redis://user:pass@host:6379/0` (`rediss://` for TLS). */
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

/** How long garbage keys outlive their logical window, so clock skew never shortens it. */
const GC_SLACK_MS = 60_000;

/**
 * Broker for many nodes sharing one Redis. Each channel's history is a Redis Stream whose
 * entry ids are the seqs, assigned with the dedup check, the append, the trim and the fan-out
 * in one Lua script, so seqs are gapless and a repeated id publishes nothing. The epoch lives
 * in Redis too and survives node restarts; if Redis loses its data, a new epoch is made and
 * old cursors get `gap`. Live messages reach every node over pub/sub, repaired from the
 * stream after any disconnect. While Redis is down, calls fail at once with
 * {@link RedisBrokerError}, `health()` is not ok, and ioredis keeps reconnecting.
 * `ioredis` is an optional peer dependency: without it this throws an error with code
 * `IOREDIS_MISSING` that says to run `npm install ioredis`.
 */
export function redisBroker(options: RedisBrokerOptions): Broker {
  if (typeof options?.url !== 'string' || options.url === '')
    throw new TypeError('redisBroker: url is required, e.g. "redis://127.0.0.1:6379"');
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
    retryStrategy: (attempt) => Math.max(0, Math.round(reconnectDelay(attempt))),
  };
  // Loaded here, not imported: ioredis is an optional peer that only this broker needs.
  const { Redis: RedisClient } = loadIoredis();
  const commands = new RedisClient(options.url, redisOptions);
  const subscriber = new RedisClient(options.url, redisOptions);
  let closed = false;
  let lastError: Error | undefined;
  const remember = (error: Error) => {
    lastError = error;
  };
  commands.on('error', remember);
  subscriber.on('error', remember);
  // EVALSHA with a fallback to EVAL, so a Redis that restarted (empty script cache) just works.
  commands.defineCommand('lifelinePublish', { lua: publishScript });
  commands.defineCommand('lifelineRead', { lua: readScript, numberOfKeys: 2 });
  commands.defineCommand('lifelineReset', { lua: resetScript, numberOfKeys: 2 });
  const script = (name: string) => (commands as unknown as Record<string, ScriptCall>)[name]!.bind(commands);
  const publishCall = script('lifelinePublish');
  const readCall = script('lifelineRead');
  const resetCall = script('lifelineReset');
  const everReady = new WeakSet<Redis>();

  // The hash tag keeps a channel's keys in one cluster slot, as its Lua script requires. The
  // channel is escaped so that no '}' in it ends the tag early: otherwise a channel plus a
  // publish id could spell another channel's key ("a" + id "x}:meta" vs channel "a}:id:x").
  const key = (channel: string, what: string) => `${prefix}{${channel.replace(/[%}]/g, (c) => (c === '%' ? '%25' : '%7D'))}}:${what}`;
  const newEpoch = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  /** Resolves when the connection can take commands; waits only for the very first connect. */
  const usable = async (client: Redis, role: string) => {
    if (closed) throw new RedisBrokerError('Redis broker is closed');
    if (client.status === 'ready') return;
    if (client.status === 'wait' || client.status === 'connecting' || client.status === 'connect') {
      if (!everReady.has(client)) {
        await firstReady(client, role);
        return;
      }
    }
    throw new RedisBrokerError(`Redis ${role} connection is ${client.status}${lastError ? `: ${lastError.message}` : ''}`);
  };
  const firstReady = (client: Redis, role: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        reject(
          new RedisBrokerError(`Redis ${role} connection not ready after ${commandTimeout} ms${lastError ? `: ${lastError.message}` : ''}`),
        );
      }, commandTimeout);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', onReady);
    });

  const run = async <T>(what: string, client: Redis, role: string, command: () => Promise<T>): Promise<T> => {
    await usable(client, role);
    try {
      return await command();
    } catch (error) {
      throw new RedisBrokerError(`Redis ${what} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };

  const read = (channel: string, after: number | undefined, check?: number): Promise<TrackedRead> =>
    run('read', commands, 'command', async () => {
      const start = after === undefined ? '' : `${after + 1}-0`;
      const checkId = check === undefined ? '' : `${check}-0`;
      const reply = await readCall(key(channel, 'meta'), key(channel, 'log'), newEpoch(), now(), historyTtl, start, checkId);
      return parseRead(channel, reply);
    });

  const fanout = createFanout({
    listen: (names) => run('subscribe', subscriber, 'subscriber', () => subscriber.subscribe(...names)),
    unlisten: (name) => run('unsubscribe', subscriber, 'subscriber', () => subscriber.unsubscribe(name)),
    read,
    reset: (channel, epoch) => run('reset', commands, 'command', () => resetCall(key(channel, 'meta'), key(channel, 'log'), epoch)),
    liveName: (channel) => key(channel, 'live'),
  });
  subscriber.on('message', (name: string, payload: string) => fanout.onMessage(name, payload));

  // Once both connections are back, the fan-out re-subscribes and catches up from the streams.
  const onReady = (client: Redis) => () => {
    const reconnected = everReady.has(client);
    everReady.add(client);
    if (reconnected && commands.status === 'ready' && subscriber.status === 'ready') void fanout.resync();
  };
  commands.on('ready', onReady(commands));
  subscriber.on('ready', onReady(subscriber));

  const bus = createRedisBus({
    url: options.url,
    // No command timeout: a subscribe made while Redis is down waits for it instead of failing for good.
    redisOptions: { ...options.redisOptions, retryStrategy: redisOptions.retryStrategy },
    publish: (name, payload) => run('publish', commands, 'command', () => commands.publish(name, payload)),
    prefix,
  });

  const watchdog =
    pingInterval > 0
      ? setInterval(() => {
          for (const client of [commands, subscriber]) {
            if (client.status !== 'ready') continue;
            client.ping().catch((error: Error) => {
              if (closed || client.status !== 'ready') return;
              lastError = new Error(`ping unanswered (${error.message}); reconnecting`);
              client.disconnect(true);
            });
          }
        }, pingInterval)
      : undefined;
  watchdog?.unref();

  return {
    publish: (channel, data, id) =>
      run('publish', commands, 'command', async (): Promise<PublishResult> => {
        const keys = [key(channel, 'meta'), key(channel, 'log')];
        if (id !== undefined) keys.push(key(channel, `id:${id}`));
        const args = [
          newEpoch(),
          now(),
          historySize,
          historyTtl,
          dedupTtl,
          JSON.stringify(data) ?? 'null',
          key(channel, 'live'),
          Math.ceil(historyTtl + GC_SLACK_MS),
          Math.ceil(dedupTtl + GC_SLACK_MS),
          randomBytes(6).toString('base64url'),
        ];
        const [epoch, seq, duplicate] = (await publishCall(keys.length, ...keys, ...args)) as [string, number, number];
        return { epoch, seq, duplicate: duplicate === 1 };
      }),

    async read(channel, after): Promise<ReadResult> {
      const { epoch, head, first, messages } = await read(channel, after);
      return { epoch, head, first, messages: messages.map(({ nonce: _nonce, ...message }) => message) };
    },

    subscribe: (channel, listener) => fanout.subscribe(channel, listener),

    bus,

    health(): BrokerHealth {
      if (closed) return { ok: false, detail: 'Redis broker is closed' };
      const down = [commands, subscriber].find((client) => client.status !== 'ready');
      if (!down) return { ok: true };
      return {
        ok: false,
        detail: `Redis ${down === commands ? 'command' : 'subscriber'} connection ${down.status}${lastError ? `: ${lastError.message}` : ''}`,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(watchdog);
      fanout.clear();
      bus.close();
      await Promise.all(
        [commands, subscriber].map(async (client) => {
          if (client.status === 'ready') await client.quit().catch(() => undefined);
          client.disconnect();
        }),
      );
    },
  };
}
