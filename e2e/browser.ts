import { existsSync } from 'node:fs';
import type { LaunchOptions } from '@playwright/test';

// Debian's Chromium when it exists (no browser downloads on these machines), Playwright's own
// browser elsewhere; LIFELINE_CHROMIUM overrides both.
const executablePath = process.env.LIFELINE_CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

/**
 * How every e2e browser is launched. Specs that need a browser closer to a user's (the
 * back/forward cache, timer throttling) pass the Playwright default flags to drop.
 */
export function launchOptions(ignoreDefaultArgs: string[] = []): LaunchOptions {
  return {
    ...(executablePath ? { executablePath } : {}),
    ...(ignoreDefaultArgs.length > 0 ? { ignoreDefaultArgs } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  };
}
