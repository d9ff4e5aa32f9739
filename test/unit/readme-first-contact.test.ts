// The README is a first-time reader's page: short, with the install line and the set-up
// commands on its first screen and the origin rules beside the quick start. Everything else
// lives in docs/, and every link to it must lead somewhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const readme = read('README.md');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** The headings' anchors of a Markdown file, outside code blocks. */
function anchors(text: string): Set<string> {
  const outside = text.replace(/```[\s\S]*?```/g, '');
  return new Set([...outside.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!.trim())));
}

describe('README first contact', () => {
  it('stays about 15 KB (it was 46): what a first-time reader does not need goes to docs/', () => {
    // 15 KB written, 1 KB of room for a line or two more.
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(16_384);
  });

  it('shows the real install line and the two set-up commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 30).join('\n');
    expect(firstScreen).toContain('npm install lifeline-rt');
    expect(firstScreen).toContain('npm install && npm start');
    expect(firstScreen).toMatch(/^npm test\b/m);
    expect(firstScreen).not.toMatch(/npm install lifeline(?!-rt)/);
  });

  it('names the test command CI runs', () => {
    // .ci/run says it runs "the README's test command".
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });

  it('gives the origin rules next to the quick start, before the API', () => {
    const beforeApi = readme.slice(0, readme.indexOf('## Client API'));
    expect(beforeApi).toContain('`http://localhost:5173` and `http://127.0.0.1:5173` are **different origins**');
    expect(beforeApi).toContain('--allow-origin http://localhost:5173 --allow-origin http://localhost:4173');
    expect(beforeApi).toContain('vite preview');
  });

  it('reads top-down: try it, API, options, errors, server, deploy', () => {
    const order = ['## Try it', '## Client API', '### Client options', '### Error codes', '## Server', '## Deploy'].map((h) =>
      readme.indexOf(`\n${h}\n`),
    );
    for (const at of order) expect(at).toBeGreaterThan(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('links between the README and docs/', () => {
  const pages = [
    'README.md',
    'DEVELOPERS.md',
    ...readdirSync(new URL('docs/', root))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];

  it.each(pages)('every relative link in %s leads to a file and heading that exist', (page) => {
    const text = read(page).replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, hash] = target!.split('#');
      const file = path ? new URL(path, new URL(page, root)) : new URL(page, root);
      expect(existsSync(file), `${page} → ${target}`).toBe(true);
      if (hash && file.pathname.endsWith('.md')) {
        expect(anchors(readFileSync(file, 'utf8')), `${page} → ${target}`).toContain(hash);
      }
    }
  });

  it('the README links every page in docs/', () => {
    for (const page of pages.filter((p) => p.startsWith('docs/'))) expect(readme, page).toContain(`](${page})`);
  });
});
