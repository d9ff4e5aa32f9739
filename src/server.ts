/** `lifeline-rt/server`: the reference server (Node only) and its brokers. */
export { createServer, type ConnectionInfo, type LifelineServer } from './server/server.js';
export {
  serverDefaults,
  type AuthenticateContext,
  type AuthorizeAction,
  type ServerOptionError,
  type ServerOptions,
  type ServerTransport,
} from './server/options.js';
export type { PublishAck } from './server/http-api.js';
export { memoryBroker, type MemoryBrokerOptions } from './server/brokers/memory.js';
export { redisBroker, RedisBrokerError, type RedisBrokerOptions } from './server/brokers/redis.js';
export type { Broker, BrokerHealth, NodeBus, PublishResult, ReadResult, StoredMessage } from './server/brokers/broker.js';
