// Child processes for servers and load generators: each prints one line `READY <json>` when it
// is listening, and is killed by pid when the benchmark ends (or after its time bound).
import { spawn } from 'node:child_process';

const live = new Set();
const killAll = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/**
 * Starts `node <script> ...args` and resolves with the JSON it printed after `READY `, plus
 * `send` (a line on its stdin), `lines` (async iterator of later stdout lines) and `kill`.
 * Fails after `timeoutMs` or when the child exits first.
 */
export function startChild(script, args = [], { timeoutMs = 15_000, env = {}, nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  live.add(child);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal);
    }),
  );
  const waiting = [];
  const queued = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const next = waiting.shift();
      if (next) next(line);
      else queued.push(line);
    }
  });
  const nextLine = () =>
    queued.length > 0
      ? Promise.resolve(queued.shift())
      : new Promise((resolve, reject) => {
          waiting.push(resolve);
          exited.then((code) => reject(new Error(`${script} exited (${code})`)));
        });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before READY`));
    });
    (async () => {
      for (;;) {
        const line = await nextLine();
        if (!line.startsWith('READY ')) continue;
        clearTimeout(timer);
        resolve({
          ...JSON.parse(line.slice(6)),
          pid: child.pid,
          send: (line) => child.stdin.write(`${line}\n`),
          nextLine,
          async kill() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
        return;
      }
    })().catch(reject);
  });
}

/** Called by a child when it is listening. */
export function ready(info) {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}
