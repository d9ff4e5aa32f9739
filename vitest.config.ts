import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The sources are the development build; the production build replaces this with false.
  define: { __DEV__: 'true' },
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
