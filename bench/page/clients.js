// Injected into the benchmark page (plain browser JavaScript, no build step). Each factory
// connects one client and resolves, once it is ready, with the same surface:
//   burst(n, size, keep)  asks the server for n messages of `size` bytes and resolves with the ms
//                         from the request to the n-th message handed to the application
//                         (each message is JSON-parsed; `keep` holds every message, as an app
//                         showing them would)
//   roundTrip()           ms from publishing one message to getting it back
//   publishMany(n, inFlight)  ms to publish n messages with at most inFlight unacknowledged
//   stream(n, interval)   asks for n messages, one every `interval` ms, and records when each
//                         arrives; streamResult() then says what arrived, when, and how often
//   close()
// `window.benchKept` holds what `keep` kept, so the heap measure can see it.
(() => {
  const now = () => performance.now();
  let unique = 0;
  const probeId = () => `${Date.now().toString(36)}-${++unique}`;
  window.benchKept = [];

  /** Resolves when `until()` is true after a message, or rejects after `ms`. */
  function counter() {
    let check = () => {};
    return {
      arrived(data) {
        check(data);
      },
      wait(test, ms = 120_000) {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
          check = (data) => {
            if (test(data)) {
              clearTimeout(timer);
              check = () => {};
              resolve();
            }
          };
        });
      },
    };
  }

  /** Counts burst messages (those with an `i`) until n; keeps them when asked. */
  function burstWaiter(events, n, keep) {
    let count = 0;
    return events.wait((data) => {
      if (data === null || typeof data !== 'object' || data.i === undefined) return false;
      if (keep) window.benchKept.push(data);
      return ++count === n;
    });
  }

  /** Records stream messages (those with an `s`) as they arrive. */
  function streamRecorder() {
    const arrivals = [];
    return {
      arrived(data) {
        if (data !== null && typeof data === 'object' && data.s !== undefined) arrivals.push([data.s, now()]);
      },
      result: () => ({ arrivals }),
    };
  }

  /** `transport`: one transport name, or 'default' for the client's own order. */
  async function lifeline(origin, transport) {
    const options = transport === 'default' ? {} : { transports: [transport] };
    const client = window.Lifeline.createClient(`${origin}/rt`, { ...options, rememberTransport: false });
    const events = counter();
    const stream = streamRecorder();
    const channel = `bench-${probeId()}`;
    client.subscribe(channel).on('message', (data) => {
      stream.arrived(data);
      events.arrived(data);
    });
    if (client.state !== 'open') {
      await new Promise((resolve) => {
        const off = client.on('state', ({ to }) => {
          if (to === 'open') {
            off();
            resolve();
          }
        });
      });
    }
    const roundTrip = async (ms) => {
      const id = probeId();
      const started = now();
      const back = events.wait((data) => data?.probe === id, ms);
      client.publish(channel, { probe: id }).catch(() => {});
      await back;
      return now() - started;
    };
    // The subscription is live once a publish comes back through it.
    for (let attempt = 0; ; attempt++) {
      try {
        await roundTrip(2000);
        break;
      } catch (error) {
        if (attempt === 10) throw error;
      }
    }
    return {
      transport: () => client.transport,
      async burst(n, size, keep) {
        const done = burstWaiter(events, n, keep);
        const started = now();
        await fetch(`${origin}/bench/burst?channel=${channel}&n=${n}&size=${size}`, { method: 'POST' });
        await done;
        return now() - started;
      },
      roundTrip: () => roundTrip(30_000),
      async stream(n, interval) {
        await fetch(`${origin}/bench/stream?channel=${channel}&n=${n}&interval=${interval}`, { method: 'POST' });
      },
      streamResult: () => stream.result(),
      async publishMany(n, inFlight) {
        const started = now();
        let next = 0;
        const data = { t: 'x'.repeat(90) };
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < n) {
              next++;
              await client.publish(channel, data);
            }
          }),
        );
        return now() - started;
      },
      close: () => client.close(),
    };
  }

  async function rawWs(origin, per) {
    const socket = new WebSocket(`${origin.replace('http', 'ws')}/ws`);
    const events = counter();
    let acks = 0;
    let onAck = () => {};
    socket.onmessage = ({ data }) => {
      const parsed = JSON.parse(data);
      if (Array.isArray(parsed)) for (const item of parsed) events.arrived(item);
      else if (parsed.ack) onAck(++acks);
      else events.arrived(parsed);
    };
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error('raw WebSocket failed'));
    });
    return {
      transport: () => 'websocket',
      async burst(n, size, keep) {
        const done = burstWaiter(events, n, keep);
        const started = now();
        socket.send(JSON.stringify({ burst: n, size, per }));
        await done;
        return now() - started;
      },
      async roundTrip() {
        const id = probeId();
        const started = now();
        const back = events.wait((data) => data?.probe === id);
        socket.send(JSON.stringify({ probe: id }));
        await back;
        return now() - started;
      },
      // The raw server echoes each message; the echo is its acknowledgement.
      async publishMany(n, inFlight) {
        const started = now();
        acks = 0;
        let sent = 0;
        const data = JSON.stringify({ ack: 1, t: 'x'.repeat(90) });
        await new Promise((resolve) => {
          const top = () => {
            while (sent < n && sent - acks < inFlight) {
              sent++;
              socket.send(data);
            }
          };
          onAck = (count) => (count === n ? resolve() : top());
          top();
        });
        return now() - started;
      },
      close: () => socket.close(),
    };
  }

  /** Raw SSE and raw long polling share the downstream endpoints' POST side. */
  function httpUpstream(origin, kind, id, events) {
    return {
      async burst(n, size, keep) {
        const done = burstWaiter(events, n, keep);
        const started = now();
        await fetch(`${origin}/burst?kind=${kind}&id=${id}&n=${n}&size=${size}`, { method: 'POST' });
        await done;
        return now() - started;
      },
      async roundTrip() {
        const probe = probeId();
        const started = now();
        const back = events.wait((data) => data?.probe === probe);
        await fetch(`${origin}/echo?kind=${kind}&id=${id}`, { method: 'POST', body: JSON.stringify({ probe }) });
        await back;
        return now() - started;
      },
      // One POST per message; its answer is the acknowledgement.
      async publishMany(n, inFlight) {
        const started = now();
        let next = 0;
        const body = JSON.stringify({ t: 'x'.repeat(90) });
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < n) {
              next++;
              await fetch(`${origin}/echo?kind=none&id=${id}`, { method: 'POST', body });
            }
          }),
        );
        return now() - started;
      },
    };
  }

  async function rawSse(origin) {
    const events = counter();
    const source = new EventSource(`${origin}/sse`);
    const id = await new Promise((resolve, reject) => {
      source.addEventListener('hello', ({ data }) => resolve(data));
      source.onerror = () => reject(new Error('raw SSE failed'));
    });
    source.onmessage = ({ data }) => events.arrived(JSON.parse(data));
    return { ...httpUpstream(origin, 'sse', id, events), close: () => source.close() };
  }

  async function rawLongPoll(origin) {
    const events = counter();
    const { id } = await (await fetch(`${origin}/lp/open`)).json();
    let after = 0;
    let open = true;
    let polls = 0;
    (async () => {
      while (open) {
        const items = await (await fetch(`${origin}/lp/poll?id=${id}&after=${after}`)).json();
        polls++;
        after += items.length;
        for (const item of items) events.arrived(item);
      }
    })().catch(() => {});
    return { ...httpUpstream(origin, 'lp', id, events), polls: () => polls, close: () => (open = false) };
  }

  /**
   * `transport`: 'websocket' or 'polling' alone, 'default' (socket.io's own: polling, then the
   * upgrade), or 'websocket-first' (websocket then polling, with tryAllTransports).
   */
  async function socketIo(origin, transport) {
    const options =
      transport === 'default'
        ? {}
        : transport === 'websocket-first'
          ? { transports: ['websocket', 'polling'], tryAllTransports: true }
          : { transports: [transport] };
    const socket = window.io(origin, options);
    const events = counter();
    const stream = streamRecorder();
    socket.on('m', (data) => {
      stream.arrived(data);
      events.arrived(data);
    });
    socket.on('echo', (data) => events.arrived(data));
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return {
      async burst(n, size, keep) {
        const done = burstWaiter(events, n, keep);
        const started = now();
        socket.emit('burst', { n, size });
        await done;
        return now() - started;
      },
      async roundTrip() {
        const id = probeId();
        const started = now();
        const back = events.wait((data) => data?.probe === id);
        socket.emit('echo', { probe: id });
        await back;
        return now() - started;
      },
      transport: () => socket.io.engine?.transport?.name,
      async stream(n, interval) {
        socket.emit('stream', { n, interval });
      },
      streamResult: () => stream.result(),
      // Emit with an acknowledgement callback, socket.io's own way to confirm a message.
      async publishMany(n, inFlight) {
        const started = now();
        let next = 0;
        const data = { t: 'x'.repeat(90) };
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next < n) {
              next++;
              await new Promise((resolve) => socket.emit('pub', data, resolve));
            }
          }),
        );
        return now() - started;
      },
      close: () => socket.close(),
    };
  }

  window.benchClients = { lifeline, rawWs, rawSse, rawLongPoll, socketIo };
})();
