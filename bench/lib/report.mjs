// Prints a benchmark's tables (GitHub markdown, as docs/benchmarks.md quotes them) and writes
// everything it measured to bench/results/<name>.json (gitignored: the doc records the figures).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchDir } from './prepare.mjs';

/** Formats a number with thousands separators and `digits` decimals. */
export const num = (n, digits = 0) =>
  n === undefined || n === null || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** `a / b` as `0.42×`. */
export const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function chromiumVersion() {
  try {
    return execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The machine, for the JSON and the doc. */
export function machine() {
  return { nproc: os.availableParallelism(), node: process.version, chromium: chromiumVersion(), loadavg: os.loadavg() };
}

/** Prints `sections` ({ title, header, rows, notes? }) and writes `data` as JSON. */
export function report(name, sections, data) {
  for (const { title, header, rows, notes } of sections) {
    console.log(`\n### ${title}\n`);
    console.log(table(header, rows));
    if (notes) console.log(`\n${notes}`);
  }
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), ...data }, null, 2)}\n`);
  console.log(`\n(wrote ${file})`);
}

/** Percentile `q` (0–1) of an ascending array. */
export const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Median of numbers. */
export const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
