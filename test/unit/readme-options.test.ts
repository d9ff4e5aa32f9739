// The option tables (the client's in the README, the server's in docs/server.md) are what users
// read; the TSDoc `@default`s are what the code documents. This keeps the two in step, both ways.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface OptionDoc {
  name: string;
  defaultText: string | undefined;
}

/** The documented fields of an exported interface: `/** … *\/ name?: …`, with their `@default`. */
function optionDocs(file: string, name: string): OptionDoc[] {
  const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  const open = source.indexOf('{', source.indexOf(`export interface ${name}`));
  let depth = 0;
  let close = open;
  for (; close < source.length; close++) {
    if (source[close] === '{') depth++;
    else if (source[close] === '}' && --depth === 0) break;
  }
  return [...source.slice(open + 1, close).matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+)\??\s*[:(]/g)].map((m) => ({
    name: m[2]!,
    defaultText: /@default\s+(.*)/
      .exec(m[1]!)?.[1]
      ?.replace(/\s*\*\/?$/, '')
      .trim(),
  }));
}

const read = (doc: string) => readFileSync(new URL(`../../${doc}`, import.meta.url), 'utf8');
const readme = read('README.md');

/** Rows of the table under `heading` (`### Client options`) in `doc`: first cell (the option name) → second cell (its default). */
function table(doc: string, heading: string): Map<string, string> {
  const text = read(doc);
  const start = text.indexOf(`${heading}\n`);
  expect(start, `${doc} has "${heading}"`).toBeGreaterThanOrEqual(0);
  const section = text.slice(start, text.indexOf('\n#', start + heading.length));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\| `([\w.]+)` \| (.*?) \|/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!);
  }
  return rows;
}

// Fields nested in an object option appear in the README under their dotted name.
const nested: Record<string, string> = { initialDelay: 'reconnect', maxDelay: 'reconnect', stableAfter: 'reconnect' };

// The client's options are in the README, the server's on its own page.
describe.each([
  ['README.md', '### Client options', 'src/client/options.ts', 'ClientOptions'],
  ['docs/server.md', '## Server options', 'src/server/options.ts', 'ServerOptions'],
] as const)('%s "%s"', (doc, heading, file, name) => {
  const docs = optionDocs(file, name);
  const rows = table(doc, heading);
  const readmeName = (doc: OptionDoc) => (name === 'ClientOptions' && nested[doc.name] ? `${nested[doc.name]}.${doc.name}` : doc.name);

  it('lists every documented option with the default its TSDoc gives', () => {
    expect(docs.length).toBeGreaterThan(5);
    for (const doc of docs) {
      expect(doc.defaultText, `@default in the TSDoc of ${readmeName(doc)}`).toBeDefined();
      // An object option is listed by its fields (`reconnect.initialDelay`, …), each with its default.
      if (doc.defaultText!.startsWith('{')) {
        expect(
          [...rows.keys()].filter((row) => row.startsWith(`${doc.name}.`)),
          `README rows for ${doc.name}.*`,
        ).not.toEqual([]);
        continue;
      }
      const row = rows.get(readmeName(doc));
      expect(row, `README row for ${readmeName(doc)}`).toBeDefined();
      // The README may shorten the default's explanation in parentheses, not the value.
      const value = doc.defaultText!.replace(/\s*\(.*$/, '');
      expect(row!.replace(/`/g, ''), `default of ${readmeName(doc)}`).toContain(value);
    }
  });

  it('lists no option the code does not have', () => {
    const names = new Set(docs.map(readmeName));
    for (const row of rows.keys()) expect(names, `README option ${row}`).toContain(row);
  });
});

describe('README "Error codes"', () => {
  it('lists every code the client gives its own errors', () => {
    const source = readFileSync(new URL('../../src/client/errors.ts', import.meta.url), 'utf8');
    const union = /export type ClientErrorCode =([^;]*);/.exec(source)![1]!;
    const codes = [...union.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(5);
    const section = readme.slice(readme.indexOf('### Error codes'));
    for (const code of codes) expect(section, code).toContain(`| \`${code}\` |`);
  });
});
