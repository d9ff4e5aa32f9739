// Stand-ins for the browser globals the client listens to (window/worker global, document,
// navigator), counting listeners so a test can prove close() removes every one.
import { vi } from 'vitest';

/** Installs a fake page on globalThis; undo with vi.unstubAllGlobals(). */
export function fakePage() {
  const global = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' as 'visible' | 'hidden' });
  const navigator = { onLine: true };
  let listeners = 0;
  const counted = (target: EventTarget) => ({
    add: (type: string, fn: EventListener) => {
      listeners++;
      target.addEventListener(type, fn);
    },
    remove: (type: string, fn: EventListener) => {
      listeners--;
      target.removeEventListener(type, fn);
    },
  });
  const g = counted(global);
  const d = counted(document);
  vi.stubGlobal('addEventListener', g.add);
  vi.stubGlobal('removeEventListener', g.remove);
  vi.stubGlobal('document', {
    get visibilityState() {
      return document.visibilityState;
    },
    addEventListener: d.add,
    removeEventListener: d.remove,
  });
  vi.stubGlobal('navigator', navigator);
  return {
    navigator,
    document,
    /** Fires an event on the global (online, pagehide, pageshow …). */
    fire: (type: string) => global.dispatchEvent(new Event(type)),
    /** Sets the visibility and fires visibilitychange on the document. */
    setVisibility(state: 'visible' | 'hidden') {
      document.visibilityState = state;
      document.dispatchEvent(new Event('visibilitychange'));
    },
    listeners: () => listeners,
  };
}
