#!/usr/bin/env node
/**
 * Runs the test suite with node's test runner (TypeScript through tsx).
 *   node scripts/test.mjs            unit + integration tests (src/**\/*.test.ts, test/**\/*.test.ts, not test/browser)
 *   node scripts/test.mjs browser    browser tests (test/browser/*.test.ts) in /usr/bin/chromium
 *   node scripts/test.mjs <files..>  only these files
 * Set DATABASE_URL to run against PostgreSQL instead of PGlite.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const browser = args[0] === 'browser';
const explicit = browser ? args.slice(1) : args;

function find(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules') continue;
      find(p, out);
    } else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = explicit.length ? explicit : [...find('src'), ...find('test')];
files = files.filter((f) => (browser ? f.includes(`test${path.sep}browser${path.sep}`) : explicit.length || !f.includes(`test${path.sep}browser${path.sep}`))).sort();
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}
// The longest files start first (longest-processing-time first): started in alphabetical order, the two route sweeps
// (test/) came last and one core sat idle while the other finished them. Durations from a whole-suite run (PGlite, 2
// cores): robustness 130–330 s, the notices crash test 140 s, ownership 130 s, the CPSV-AP import 120 s. A file not
// listed keeps its place; a listed file that is gone is skipped.
const SLOW_FIRST = [
  'test/robustness.test.ts',
  'src/notices/crash.test.ts',
  'test/ownership.test.ts',
  'src/catalogue/cpsv/import.test.ts',
  'src/catalogue/cpsv/export.test.ts',
  'src/clients/privacy.test.ts',
  'src/agreements/agreements.test.ts',
  'src/counters/queue.test.ts',
].map((f) => f.split('/').join(path.sep));
if (!explicit.length && !browser) files = [...SLOW_FIRST.filter((f) => files.includes(f)), ...files.filter((f) => !SLOW_FIRST.includes(f))];
const concurrency = Math.max(2, Math.min(4, os.availableParallelism()));
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${browser ? 1 : concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(r.status ?? 1);
