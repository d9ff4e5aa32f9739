/**
 * `lifeline-rt/testing` (Node only): a real Lifeline server on loopback with fault controls
 * and waits, for the test suites of apps that use Lifeline. See docs/testing.md.
 */
export { createTestServer } from './testing/test-server.js';
export type { TestConnection, TestServer, TestTransport, WaitForConnectionOptions, WaitForPublishOptions } from './testing/types.js';
export type { TestServerOptions } from './testing/options.js';
export { TestServerError, type TestServerErrorCode } from './testing/errors.js';
export type { PublishAck } from './server/http-api.js';
