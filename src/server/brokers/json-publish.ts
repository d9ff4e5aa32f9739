import type { Broker, PublishResult } from './broker.js';

/** Publishes data given as its JSON text (valid JSON, already checked by the server). */
export type JsonPublish = (channel: string, json: string, id?: string) => Promise<PublishResult>;

// Keyed by the broker's own `publish` function, so a wrapper that replaces `publish` (to count,
// log or refuse) is never bypassed: the server only takes the shortcut for the very function
// the shortcut stands for.
const shortcuts = new WeakMap<Broker['publish'], JsonPublish>();

/**
 * Registers `json` as what `publish` does for data that is already JSON text: the same log,
 * seqs and dedup, without encoding the data a second time.
 */
export function registerJsonPublish(publish: Broker['publish'], json: JsonPublish): void {
  shortcuts.set(publish, json);
}

/** The JSON shortcut of `broker.publish`, or undefined when it has none (publish the decoded value). */
export function jsonPublishOf(broker: Broker): JsonPublish | undefined {
  return shortcuts.get(broker.publish);
}
