import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    // msw's WebSocket interceptor needs a global WebSocket, which Node 20 only has behind a flag.
    pool: 'forks',
    execArgv: ['--experimental-websocket'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
