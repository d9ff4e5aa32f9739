// Runs in the page before any of its scripts (page.addInitScript): a stand-in for a hidden
// tab, which headless Chromium never produces by itself. `window.tab.hide(ms)` makes
// document.visibilityState 'hidden' and lets timer callbacks run only at wake-ups every `ms`
// from then on, as Chromium's throttling of hidden pages does (once a second, once a minute
// after five minutes); `show()` undoes both. Each flip dispatches visibilitychange.

declare global {
  interface Window {
    /** Hides the page with timers waking only every `alignMs` from now; `show()` undoes it. */
    tab: { hide(alignMs: number): void; show(): void };
  }
}

/** Installs `window.tab`; serialised by Playwright, so it must not reference anything outside itself. */
export function installThrottling(): void {
  const realSet = window.setTimeout.bind(window) as unknown as (callback: () => void, delay: number) => number;
  const realClear = window.clearTimeout.bind(window) as unknown as (id: number | undefined) => void;
  let align = 0;
  let since = 0;
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  const timers = new Map<number, number>();
  let nextId = 1_000_000;
  const schedule = (id: number, callback: () => void, delay: number) => {
    const fire = () => {
      if (!timers.has(id)) return;
      // Hidden: run only on a wake-up boundary, as Chromium's throttling does.
      const now = performance.now();
      const wait = align > 0 ? since + Math.ceil((now - since) / align) * align - now : 0;
      if (wait > 1) timers.set(id, realSet(fire, wait));
      else callback();
    };
    timers.set(id, realSet(fire, delay));
  };
  type Handler = (...args: unknown[]) => void;
  window.setTimeout = ((handler: Handler, delay = 0, ...args: unknown[]) => {
    const id = nextId++;
    schedule(
      id,
      () => {
        timers.delete(id);
        handler(...args);
      },
      delay,
    );
    return id;
  }) as typeof window.setTimeout;
  window.setInterval = ((handler: Handler, delay = 0, ...args: unknown[]) => {
    const id = nextId++;
    const tick = () => {
      schedule(id, tick, Math.max(1, delay));
      handler(...args);
    };
    schedule(id, tick, delay);
    return id;
  }) as typeof window.setInterval;
  const clear = (id?: number) => {
    const real = id === undefined ? undefined : timers.get(id);
    if (real === undefined) return realClear(id);
    timers.delete(id!);
    realClear(real);
  };
  window.clearTimeout = window.clearInterval = clear as typeof window.clearTimeout;
  const flip = (toHidden: boolean) => {
    hidden = toHidden;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  window.tab = {
    hide(alignMs) {
      align = alignMs;
      since = performance.now();
      flip(true);
    },
    show() {
      align = 0;
      flip(false);
    },
  };
}
