// The dependency table (docs/dependencies.md, linked from the README) says why each package is
// there and where it runs: it must name every package in package.json, each in the role
// package.json gives it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const page = readFileSync(new URL('../../docs/dependencies.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<
  'dependencies' | 'devDependencies' | 'peerDependencies',
  Record<string, string>
> & { peerDependenciesMeta: Record<string, { optional?: boolean }> };

/** Rows of the table under "# Dependencies": package name → the "where" column. */
function table(): Map<string, string> {
  const start = page.indexOf('# Dependencies\n');
  expect(start, 'docs/dependencies.md has a "# Dependencies" heading').toBeGreaterThanOrEqual(0);
  const section = page.slice(start, page.indexOf('\n## ', start + 1));
  const rows = new Map<string, string>();
  for (const [, names, where] of section.matchAll(/^\| ([^|]+) \| ([^|]+) \|/gm)) {
    for (const name of names!.split(',')) rows.set(name.trim(), where!.trim());
  }
  return rows;
}

describe('docs/dependencies.md dependency table', () => {
  const rows = table();

  it('names every runtime dependency as client or server code', () => {
    for (const name of Object.keys(pkg.dependencies)) expect(['client', 'server'], name).toContain(rows.get(name));
  });

  it('names every optional peer dependency as such', () => {
    for (const name of Object.keys(pkg.peerDependencies)) {
      expect(pkg.peerDependenciesMeta[name]?.optional, `${name} is optional in package.json`).toBe(true);
      expect(rows.get(name), name).toMatch(/^optional peer/);
    }
  });

  it('names every dev dependency that is no peer as dev', () => {
    for (const name of Object.keys(pkg.devDependencies)) {
      if (name in pkg.peerDependencies) continue;
      expect(rows.get(name), name).toBe('dev');
    }
  });

  it('says, in a row of its own, why reconnecting-websocket was not adopted', () => {
    expect(rows.get('reconnecting-websocket')).toBe('not adopted');
    expect(page).toContain('## Why not reconnecting-websocket');
  });
});
