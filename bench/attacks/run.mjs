// Issue 11's attacks, rerun against the built server (`npm run build`, then
// `npm run bench:attacks`). The server is `bin/lifeline-server.js` with its defaults, in its own
// process. BYSTANDERS raw WebSocket clients (each from its own loopback address) subscribe to
// one channel that a publisher feeds 20 times a second with a timestamp; their delivery
// latency, and a /health poller's round trip, are measured before each attack and during it,
// over windows of the same length (the attack's; BASE_MS sets a fixed baseline instead). Prints
// a table (baseline p99, attack p99, ratio, server up, peak RSS) and writes
// bench/results/attacks.json.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, createServer as createNetServer } from 'node:net';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createClient } from '../../dist/index.js';

const BYSTANDERS = Number(process.env.BYSTANDERS ?? 20);
// A p99 over a longer window catches rarer stalls, so by default the baseline is as long as the
// attack it is compared with.
const BASE_MS = process.env.BASE_MS ? Number(process.env.BASE_MS) : undefined;
const ATTACK_MS = Number(process.env.ATTACK_MS ?? 8000);
const HERD = Number(process.env.HERD ?? 500);
const ONLY = process.env.ONLY?.split(',');
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 3000);
const ATTACKER_NICE = Number(process.env.ATTACKER_NICE ?? 19);
const bin = fileURLToPath(new URL('../../bin/lifeline-server.js', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback address of its own for each role, so the per-address budgets see them apart. */
let nextAddress = 10;
const address = () => `127.0.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`;

async function freePort() {
  const server = createNetServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the built CLI on `port`; resolves once it listens. */
async function startServer(port) {
  const child = spawn(process.execPath, [bin, '--port', String(port), '--api-key', 'bench'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  for (const started = Date.now(); !/listening on/.test(out); await sleep(20)) {
    if (child.exitCode !== null || Date.now() - started > 10_000) throw new Error(`server did not start: ${out}`);
  }
  return child;
}

const rssOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
};

function p99(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** A raw protocol WebSocket from `localAddress`; `frames` hears every frame. */
function raw(url, { localAddress = address(), onFrame = () => {}, hello = true } = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { localAddress });
  ws.on('error', () => {});
  ws.on('message', (data) => {
    let frames;
    try {
      frames = JSON.parse(String(data));
    } catch {
      return;
    }
    for (const frame of frames) {
      if (frame.type === 'ping') ws.send('[{"type":"pong"}]');
      onFrame(frame);
    }
  });
  const opened = new Promise((resolve) => {
    ws.once('open', () => {
      if (hello) ws.send(JSON.stringify([{ type: 'hello', v: 1 }]));
      resolve(ws);
    });
    ws.once('close', () => resolve(ws));
  });
  return { ws, opened };
}

/** The measuring side: bystanders on "bystand", their publisher, and the /health poller. */
function bystanders(url) {
  const state = { latencies: [], health: [], drops: 0, stopped: false, sockets: [] };
  const connect = (i) => {
    const { ws } = raw(url, {
      localAddress: `127.0.9.${i + 1}`,
      onFrame: (frame) => {
        if (frame.type === 'welcome') ws.send(JSON.stringify([{ type: 'sub', channel: 'bystand' }]));
        if (frame.type === 'msg' && frame.channel === 'bystand' && typeof frame.data?.t === 'number')
          state.latencies.push(performance.now() - frame.data.t);
      },
    });
    state.sockets[i] = ws;
    ws.once('close', () => {
      if (state.stopped) return;
      state.drops++;
      setTimeout(() => connect(i), 500);
    });
  };
  for (let i = 0; i < BYSTANDERS; i++) connect(i);
  let publisher;
  const connectPublisher = () => {
    publisher = raw(url, { localAddress: '127.0.9.250' }).ws;
    publisher.once('close', () => !state.stopped && setTimeout(connectPublisher, 500));
  };
  connectPublisher();
  let n = 0;
  const publishing = setInterval(() => {
    if (publisher.readyState === 1)
      publisher.send(JSON.stringify([{ type: 'pub', id: `b${n++}`, channel: 'bystand', data: { t: performance.now() } }]));
  }, 50);
  const polling = setInterval(() => {
    const started = performance.now();
    const req = request(`${url}/health`, { localAddress: '127.0.9.251', agent: false }, (res) => {
      res.resume();
      res.on('end', () => state.health.push(performance.now() - started));
    });
    req.on('error', () => state.health.push(Number.POSITIVE_INFINITY));
    req.setTimeout(5000, () => req.destroy());
    req.end();
  }, 100);
  return {
    state,
    /** Clears the samples: a new measuring window starts. */
    window() {
      const taken = { latencies: state.latencies, health: state.health, drops: state.drops };
      state.latencies = [];
      state.health = [];
      state.drops = 0;
      return taken;
    },
    stop() {
      state.stopped = true;
      clearInterval(publishing);
      clearInterval(polling);
      for (const ws of [...state.sockets, publisher]) ws?.terminate();
    },
  };
}

const nested = (levels, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

/** The slow consumer is cut within about 2 × heartbeat (25 s by default): it gets a minute. */
const durations = { 'slow consumer': Number(process.env.SLOW_MS ?? 60_000) };

/** Each attack starts and returns a stop function; `note` gets extra figures for its row. */
const attacks = {
  /** One message over 64 KiB holding a frame nested 30,000 levels, every 100 ms. */
  'deep JSON': (url) => {
    const padding = JSON.stringify({ type: 'pub', id: 'pad', channel: 'junk', data: 'x'.repeat(60_000) });
    const text = `[{"type":"pub","id":"deep","channel":"bystand","data":${nested(30_000)}},${padding}]`;
    const { ws } = raw(url);
    const timer = setInterval(() => ws.readyState === 1 && ws.send(text), 100);
    return () => (clearInterval(timer), ws.terminate());
  },
  /** A 12 KB publish nested 6,000 levels into the bystanders' channel, every 200 ms. */
  'big WS publish': (url) => {
    const text = `[{"type":"pub","id":"big","channel":"bystand","data":${nested(6000)}}]`;
    const { ws } = raw(url);
    const timer = setInterval(() => ws.readyState === 1 && ws.send(text), 200);
    return () => (clearInterval(timer), ws.terminate());
  },
  /** One address's connections send publishes as fast as their sockets take them, reconnecting when cut. */
  'publish flood': (url, note) => {
    let stopped = false;
    let sent = 0;
    let cuts = 0;
    const from = address();
    const one = async () => {
      while (!stopped) {
        const { ws, opened } = raw(url, { localAddress: from });
        await opened;
        let n = 0;
        while (!stopped && ws.readyState === 1) {
          if (ws.bufferedAmount < 1 << 20) {
            const frames = Array.from({ length: 100 }, () => ({ type: 'pub', id: `f${n++}`, channel: 'flood', data: n }));
            ws.send(JSON.stringify(frames));
            sent += 100;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
        cuts++;
        ws.terminate();
        await sleep(50);
      }
    };
    const loops = Array.from({ length: 4 }, one);
    return async () => {
      stopped = true;
      await Promise.all(loops);
      note.publishesSent = sent;
      note.attackerCuts = cuts;
    };
  },
  /**
   * 50 connections from one address each send wire messages of 100 publishes of 60 KB to fresh
   * channels (6 MB a message), as fast as they are answered: history and inbound budgets bound it.
   */
  'memory pin': (url) => {
    let stopped = false;
    const from = address();
    const data = 'x'.repeat(60_000);
    let c = 0;
    const one = async () => {
      while (!stopped) {
        let answered;
        const { ws, opened } = raw(url, {
          localAddress: from,
          onFrame: (frame) => (frame.type === 'ack' || frame.type === 'error') && answered?.(),
        });
        await opened;
        while (!stopped && ws.readyState === 1) {
          // The next message only once the last one has left this process and been answered:
          // the attacker's own buffers must not be what runs out of memory.
          if (ws.bufferedAmount > 0) {
            await sleep(50);
            continue;
          }
          const frames = Array.from({ length: 100 }, (_, i) => ({ type: 'pub', id: `m${c}-${i}`, channel: `pin-${c++}`, data }));
          const done = new Promise((resolve) => (answered = resolve));
          ws.send(JSON.stringify(frames));
          await Promise.race([done, sleep(2000)]);
        }
        ws.terminate();
        await sleep(100);
      }
    };
    const loops = Array.from({ length: 50 }, one);
    return async () => {
      stopped = true;
      await Promise.all(loops);
    };
  },
  /** A reader that stops reading but keeps pinging, on a channel fed 1 MB a second. */
  'slow consumer': (url, note) => {
    const started = performance.now();
    const { ws } = raw(url, {
      onFrame: (frame) => {
        if (frame.type === 'welcome') {
          ws.send(JSON.stringify([{ type: 'sub', channel: 'firehose' }]));
          // Stops reading, keeps pinging (a write needs no read).
          setTimeout(() => ws._socket?.pause(), 200);
        }
      },
    });
    ws.on('close', () => (note.attackerCutAfterS ??= Math.round((performance.now() - started) / 100) / 10));
    ws.once('open', () => ws._socket?.on('close', () => (note.attackerCutAfterS ??= Math.round((performance.now() - started) / 100) / 10)));
    const pinger = setInterval(() => ws.readyState === 1 && ws.send('[{"type":"ping"}]'), 1000);
    const publisher = raw(url).ws;
    let n = 0;
    const data = 'y'.repeat(10_000);
    const feeding = setInterval(() => {
      if (publisher.readyState !== 1) return;
      publisher.send(JSON.stringify(Array.from({ length: 10 }, () => ({ type: 'pub', id: `s${n++}`, channel: 'firehose', data }))));
    }, 100);
    return () => {
      clearInterval(pinger);
      clearInterval(feeding);
      note.attackerCutAfterS ??= `not within ${durations['slow consumer'] / 1000}`;
      ws.terminate();
      publisher.terminate();
    };
  },
  /** 200 sockets from one address trickling header lines, reopened as they are closed. */
  slowloris: (url, note) => {
    const { port } = new URL(url);
    let stopped = false;
    const lifetimes = [];
    const from = address();
    const open = () => {
      if (stopped) return;
      const started = performance.now();
      const socket = createConnection({ host: '127.0.0.1', port: Number(port), localAddress: from });
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.write('GET /rt/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 1000);
      socket.once('close', () => {
        clearInterval(trickle);
        if (!stopped) lifetimes.push(performance.now() - started);
        setTimeout(open, 100);
      });
      sockets.add(socket);
    };
    const sockets = new Set();
    for (let i = 0; i < 200; i++) open();
    return () => {
      stopped = true;
      for (const socket of sockets) socket.destroy();
      note.longestSocketS = lifetimes.length ? Math.round(Math.max(...lifetimes) / 100) / 10 : `over ${ATTACK_MS / 1000}`;
    };
  },
};

/**
 * Runs one attack in a child process of its own (so that its loops never slow the bystanders'
 * measuring), until SIGTERM; it then prints its figures as a JSON line.
 *
 * The attacker runs at the lowest CPU priority (nice 19, ATTACKER_NICE): on these two cores
 * its own work (building 6 MB messages, 50k frames a second) would otherwise take CPU time
 * from the bystanders' measuring and the server, which a real attacker on another machine
 * cannot. It still gets any idle CPU, so the server sees the same traffic when it keeps up.
 */
function attacker(name, url) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--attacker', name, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  setPriority(child.pid, ATTACKER_NICE);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  return async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    try {
      return JSON.parse(out.trim().split('\n').at(-1));
    } catch {
      return {};
    }
  };
}

/** Measures the bystanders before and during one attack; returns its row. */
async function measure(name, url, server, watch) {
  const attackMs = durations[name] ?? ATTACK_MS;
  await sleep(BASE_MS ?? attackMs);
  const base = watch.window();
  let peak = 0;
  const sampling = setInterval(() => (peak = Math.max(peak, rssOf(server.pid))), 100);
  const stop = attacker(name, url);
  await sleep(attackMs);
  const during = watch.window();
  const note = await stop();
  clearInterval(sampling);
  const up = server.exitCode === null && (await healthy(url));
  // What the attack left behind (closing sockets, evictions) settles before the next baseline.
  await sleep(SETTLE_MS);
  watch.window();
  return {
    attack: name,
    baselineP99Ms: round(p99(base.latencies)),
    attackP99Ms: round(p99(during.latencies)),
    ratio: round(p99(during.latencies) / p99(base.latencies)),
    samples: during.latencies.length,
    healthBaselineP99Ms: round(p99(base.health)),
    healthAttackP99Ms: round(p99(during.health)),
    bystanderDrops: during.drops,
    serverUp: up,
    peakRssMB: round(peak / 1048576),
    ...note,
  };
}

const round = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : x);

function healthy(url) {
  return new Promise((resolve) => {
    const req = request(`${url}/health`, { agent: false, localAddress: '127.0.9.252' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(5000, () => (req.destroy(), resolve(false)));
    req.end();
  });
}

/**
 * The herd after a restart: HERD real clients (dist/index.js, 100 per loopback address) on the
 * server, which gets SIGTERM and comes back on the same port; their reopenings are bucketed per
 * second from the SIGTERM, and each client checks it got every message once, in order.
 */
async function herd(port, server) {
  const url = `http://127.0.0.1:${port}/rt`;
  const clients = [];
  const reopened = [];
  const received = [];
  let killedAt = Number.POSITIVE_INFINITY;
  for (let i = 0; i < HERD; i++) {
    const localAddress = `127.0.5.${Math.floor(i / 100) + 1}`;
    class Bound extends WebSocket {
      constructor(target) {
        super(target, { localAddress });
      }
    }
    const client = createClient(url, { transports: ['websocket'], rememberTransport: false, WebSocket: Bound });
    const mine = [];
    received.push(mine);
    client.subscribe('herd').on('message', (data) => mine.push(data));
    client.on('state', ({ to }) => {
      if (to === 'open' && performance.now() > killedAt) reopened[i] ??= performance.now() - killedAt;
    });
    clients.push(client);
  }
  const publish = (n) =>
    new Promise((resolve) => {
      const body = JSON.stringify({ channel: 'herd', data: n, id: `h${n}` });
      const req = request(`${url}/publish`, { method: 'POST', headers: { Authorization: 'Bearer bench' }, agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', resolve);
      req.end(body);
    });
  await sleep(5000);
  for (let n = 0; n < 5; n++) await publish(n);
  await sleep(1000);
  let peak = 0;
  killedAt = performance.now();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  // The memory broker's history goes with the process: the new one starts a new epoch (a gap).
  const next = await startServer(port);
  const sampling = setInterval(() => (peak = Math.max(peak, rssOf(next.pid))), 100);
  for (let n = 5; n < 10; n++) await publish(n);
  for (const started = performance.now(); reopened.filter((t) => t !== undefined).length < HERD && performance.now() - started < 90_000; )
    await sleep(200);
  await sleep(2000);
  clearInterval(sampling);
  const buckets = {};
  for (const t of reopened) if (t !== undefined) buckets[Math.floor(t / 1000)] = (buckets[Math.floor(t / 1000)] ?? 0) + 1;
  const back = reopened.filter((t) => t !== undefined);
  const largest = Math.max(...Object.values(buckets));
  const newOnes = received.filter((r) => JSON.stringify(r.filter((n) => n >= 5)) === '[5,6,7,8,9]').length;
  for (const client of clients) client.close();
  return {
    server: next,
    row: {
      attack: `herd after restart (${HERD} clients)`,
      clientsBack: back.length,
      lastBackS: round(Math.max(...back) / 1000),
      largestSecondPct: round((100 * largest) / HERD),
      perSecond: Object.values(buckets).join('/'),
      clientsWithEveryLaterMessage: newOnes,
      serverUp: next.exitCode === null && (await healthy(url)),
      peakRssMB: round(peak / 1048576),
    },
  };
}

if (process.argv[2] === '--attacker') {
  const note = {};
  const stop = attacks[process.argv[3]](process.argv[4], note);
  process.once('SIGTERM', async () => {
    await stop();
    process.stdout.write(`${JSON.stringify(note)}\n`);
    process.exit(0);
  });
  await new Promise(() => {});
}

const port = await freePort();
let server = await startServer(port);
const url = `http://127.0.0.1:${port}/rt`;
const watch = bystanders(url);
const rows = [];
for (const name of Object.keys(attacks)) {
  if (ONLY && !ONLY.includes(name)) continue;
  process.stdout.write(`${name} …\n`);
  rows.push(await measure(name, url, server, watch));
  console.table([rows.at(-1)]);
  if (server.exitCode !== null) server = await startServer(port);
}
watch.stop();
let herdRow;
if (!ONLY || ONLY.includes('herd')) {
  process.stdout.write('herd after restart …\n');
  // On a fresh server: what the attacks left (a full history budget) is not the herd's to pay.
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  server = await startServer(port);
  const result = await herd(port, server);
  server = result.server;
  herdRow = result.row;
  console.table([herdRow]);
}
server.kill('SIGTERM');
console.table(rows);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  bystanders: BYSTANDERS,
  attackerNice: ATTACKER_NICE,
  baseMs: BASE_MS ?? 'as long as the attack',
  attackMs: ATTACK_MS,
  rows,
  herd: herdRow,
};
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/attacks.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
