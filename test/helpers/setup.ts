// Node 20 has no EventSource; tests that need one (msw's SSE mocks, the SSE transport) use
// the `eventsource` package, which follows the WHATWG spec.
import { EventSource } from 'eventsource';

if (typeof globalThis.EventSource === 'undefined') {
  (globalThis as { EventSource: unknown }).EventSource = EventSource;
}
