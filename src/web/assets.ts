/**
 * Builds the stylesheet once (GOV.UK Frontend compiled with Guichet's brand: own colour, system fonts, no GOV.UK
 * crown or typeface) and copies the client scripts into .build/assets. Rebuilt when the sources change.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const outDir = path.join(root, '.build/assets');

const copies: Array<[string, string]> = [
  ['node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js', 'govuk-frontend.min.js'],
  ['node_modules/chart.js/dist/chart.umd.min.js', 'chart.umd.min.js'],
  ['node_modules/leaflet/dist/leaflet.js', 'leaflet.js'],
  ['node_modules/leaflet/dist/leaflet.css', 'leaflet.css'],
];

export async function ensureAssets(): Promise<string> {
  const scssPath = path.join(here, 'assets/guichet.scss');
  const scripts = fs.readdirSync(path.join(here, 'assets')).filter((f) => f.endsWith('.js') || f.endsWith('.svg'));
  const hash = crypto.createHash('sha256');
  hash.update(fs.readFileSync(scssPath));
  for (const s of scripts) hash.update(fs.readFileSync(path.join(here, 'assets', s)));
  hash.update(fs.readFileSync(path.join(root, 'node_modules/govuk-frontend/package.json')));
  const stamp = hash.digest('hex');
  const stampFile = path.join(outDir, '.stamp');
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return outDir;

  fs.mkdirSync(outDir, { recursive: true });
  const sass = await import('sass');
  const result = sass.compile(scssPath, {
    loadPaths: [path.join(root, 'node_modules')],
    style: 'compressed',
    quietDeps: true,
    silenceDeprecations: ['import', 'mixed-decls', 'global-builtin'] as any,
  });
  fs.writeFileSync(path.join(outDir, 'guichet.css'), result.css);
  for (const [from, to] of copies) fs.copyFileSync(path.join(root, from), path.join(outDir, to));
  for (const s of scripts) fs.copyFileSync(path.join(here, 'assets', s), path.join(outDir, s));
  fs.writeFileSync(stampFile, stamp);
  return outDir;
}
