// The servers a page-side benchmark runs side by side, and the rows (a client on a transport)
// it measures against them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, openPage } from './browser.mjs';
import { benchDir, root } from './prepare.mjs';
import { startChild } from './proc.mjs';

const scripts = {
  lifeline: [join(root, 'dist', 'lifeline.min.js')],
  raw: [],
  socketio: [join(benchDir, 'node_modules', 'socket.io-client', 'dist', 'socket.io.min.js')],
};

/** Every row: `server` names the process, `make` the page-side factory call. */
export const rows = [
  { id: 'lifeline-ws', label: 'Lifeline WebSocket', server: 'lifeline', make: ['lifeline', 'websocket'] },
  { id: 'lifeline-sse', label: 'Lifeline SSE', server: 'lifeline', make: ['lifeline', 'sse'] },
  { id: 'lifeline-lp', label: 'Lifeline long polling', server: 'lifeline', make: ['lifeline', 'longpoll'] },
  { id: 'raw-ws-1', label: 'raw ws, 1 per frame', server: 'raw', make: ['rawWs', 1] },
  { id: 'raw-ws-100', label: 'raw ws, 100 per frame', server: 'raw', make: ['rawWs', 100] },
  { id: 'raw-sse', label: 'raw SSE', server: 'raw', make: ['rawSse'] },
  { id: 'raw-lp', label: 'raw long poll', server: 'raw', make: ['rawLongPoll'] },
  { id: 'sio-ws', label: 'socket.io websocket', server: 'socketio', make: ['socketIo', 'websocket'] },
  { id: 'sio-polling', label: 'socket.io polling', server: 'socketio', make: ['socketIo', 'polling'] },
];

/** Starts the three server processes (Lifeline options as JSON for its argv). */
export async function startServers(lifelineOptions = {}) {
  const [lifeline, raw, socketio] = await Promise.all([
    startChild(join(benchDir, 'servers', 'lifeline.mjs'), [JSON.stringify(lifelineOptions)]),
    startChild(join(benchDir, 'servers', 'raw.mjs')),
    startChild(join(benchDir, 'servers', 'socketio.mjs')),
  ]);
  return {
    lifeline,
    raw,
    socketio,
    close: () => Promise.all([lifeline.kill(), raw.kill(), socketio.kill()]),
  };
}

export { launchBrowser };

/**
 * Opens a page at `origin` (the row's server, or a proxy in front of it), injects the row's
 * client and the benchmark clients, and (unless `create` is false) creates `window.benchClient`.
 */
export async function openRow(browser, row, origin, { create = true } = {}) {
  const handle = await openPage(browser, origin);
  for (const path of scripts[row.client ?? row.server]) await handle.page.addScriptTag({ path });
  await handle.page.addScriptTag({ path: join(benchDir, 'page', 'clients.js') });
  const [factory, ...args] = row.make;
  if (create)
    await handle.page.evaluate(
      async ({ factory, args, origin }) => {
        window.benchClient = await window.benchClients[factory](origin, ...args);
      },
      { factory, args, origin },
    );
  return {
    ...handle,
    call: (method, ...args) => handle.page.evaluate(({ method, args }) => window.benchClient[method](...args), { method, args }),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 a second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
