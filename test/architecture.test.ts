/**
 * The house's rule (docs/architecture.md): the plumbing (src/db, src/http, src/i18n, src/jobs, src/web, src/mail)
 * imports no capability folder. The capabilities are listed once, in src/capabilities.ts, and handed to the plumbing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { capabilities } from '../src/capabilities';

const SRC = path.resolve('src');
const PLUMBING = ['db', 'http', 'i18n', 'jobs', 'web', 'mail'];

function files(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every module specifier a file imports: static imports and re-exports (type-only too), dynamic import(), require. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** The capability folder a resolved path lies in, or null (plumbing, top-level files, tests, packages). */
function capabilityOf(resolved: string): string | null {
  const rel = path.relative(SRC, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  if (parts.length === 1) return ['capabilities', 'capabilities.ts', 'schema', 'schema.ts'].includes(parts[0]) ? parts[0] : null;
  return PLUMBING.includes(parts[0]) ? null : parts[0];
}

test('the import reader sees every kind of import', () => {
  const src = `import a from '../cases/x';\nimport type { B } from "../clients/y";\nexport { c } from '../counters/z';\nimport {\n  d,\n  e,\n} from '../notices/w';\nconst f = await import('../staff/v');\nimport '../catalogue/side-effect';`;
  assert.deepEqual(importsOf(src).sort(), ['../cases/x', '../catalogue/side-effect', '../clients/y', '../counters/z', '../notices/w', '../staff/v'].sort());
});

test('the plumbing imports no capability folder', () => {
  const offences: string[] = [];
  for (const folder of PLUMBING) {
    const dir = path.join(SRC, folder);
    if (!fs.existsSync(dir)) continue;
    for (const file of files(dir)) {
      const source = fs.readFileSync(file, 'utf8');
      for (const spec of importsOf(source)) {
        if (!spec.startsWith('.')) continue;
        const resolved = path.resolve(path.dirname(file), spec);
        const cap = capabilityOf(resolved);
        // the typed database (src/schema.ts) may be imported for its types only
        if (cap === 'schema' || cap === 'schema.ts') {
          const typeOnly = new RegExp(`import\\s+type\\s+[^;]*['"]${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]`).test(source);
          if (typeOnly) continue;
        }
        if (cap) offences.push(`${path.relative('.', file)} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

test('each capability in the list has a manifest with its own folder, a unique migration group and bilingual messages', () => {
  const names = capabilities.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  const groups = capabilities.map((c) => c.migrationGroup);
  assert.equal(new Set(groups).size, groups.length);
  for (const c of capabilities) {
    assert.ok(fs.existsSync(path.join(SRC, c.name, 'index.ts')), `src/${c.name}/index.ts`);
    assert.match(c.migrationGroup, /^\d{3}_[a-z]+$/);
    for (const m of c.messages) assert.deepEqual(Object.keys(m.en).sort(), Object.keys(m.fr).sort(), `${c.name} messages`);
  }
  // migration groups are in the list's order (tables after those they reference)
  assert.deepEqual([...groups].sort(), groups);
});

test('every folder under src is plumbing or a listed capability (no folder left out of the list)', () => {
  const listed = new Set(capabilities.map((c) => c.name));
  const other = new Set([...PLUMBING, 'cli']);
  for (const e of fs.readdirSync(SRC, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    assert.ok(listed.has(e.name) || other.has(e.name), `src/${e.name} is neither plumbing nor in src/capabilities.ts`);
  }
});
