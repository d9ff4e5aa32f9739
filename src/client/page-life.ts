/** What the session does on page-life events. */
export interface PageHandlers {
  /** The network came back. */
  online(): void;
  /** The page is being hidden or put in the back/forward cache. */
  pagehide(): void;
  /** The page is shown again (also after a back/forward navigation). */
  pageshow(): void;
  /** The document's visibility changed. */
  visibilitychange(): void;
}

type Target = Partial<Pick<EventTarget, 'addEventListener' | 'removeEventListener'>> | undefined;

/**
 * Listens to the page-life events that exist here (window or worker global, document); in
 * Node, where there are none, it does nothing. Returns the function that removes every listener.
 */
export function watchPage(handlers: PageHandlers): () => void {
  const global = globalThis as Target & { document?: Target };
  const each = (method: keyof NonNullable<Target>) => {
    for (const type in handlers)
      (type === 'visibilitychange' ? global.document : global)?.[method]?.(type, handlers[type as keyof PageHandlers]);
  };
  each('addEventListener');
  return () => each('removeEventListener');
}

/** False only when the platform says it is offline; unknown counts as online. */
export const isOnline = () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false;

/** True unless a document says it is hidden. */
export const isVisible = () => (globalThis as { document?: { visibilityState?: string } }).document?.visibilityState !== 'hidden';
