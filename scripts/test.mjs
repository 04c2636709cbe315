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
const concurrency = Math.max(2, Math.min(4, os.availableParallelism()));
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${browser ? 1 : concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(r.status ?? 1);
