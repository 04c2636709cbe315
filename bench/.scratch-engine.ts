import { createTestDb } from '../test/support/db';
import { TextIndex } from '../src/catalogue/search/engine';
import { SERVICE_FIELDS } from '../src/catalogue/search/index';
import { RELEVANCE_SET } from '../src/catalogue/search/relevance-set';
const COPIES = Number(process.env.COPIES ?? 50);
const db = await createTestDb({ catalogue: true });
const rows = await db.db.selectFrom('services').selectAll().where('source', '=', 'gc-inventory').orderBy('id').execute();
const qs: Array<{ q: string; lang: 'en' | 'fr' }> = RELEVANCE_SET.map((c) => ({ q: c.q, lang: c.lang }));
for (let i = 0; i < rows.length; i += 13) {
  const en = rows[i].title_en.split(/\s+/).filter((w) => w.length > 3);
  const fr = rows[i].title_fr.split(/\s+/).filter((w) => w.length > 3);
  if (en.length >= 2) qs.push({ q: en.slice(0, 2 + (i % 2)).join(' ').toLowerCase(), lang: 'en' });
  if (fr.length >= 2) qs.push({ q: fr.slice(-2).join(' '), lang: 'fr' });
}
const n = rows.length * COPIES;
let t = performance.now();
const idx = TextIndex.build(n, SERVICE_FIELDS, (i) => {
  const r = rows[i % rows.length]; const k = Math.floor(i / rows.length);
  return [
    { field: 0, lang: 'en', text: `${r.title_en} (place${k})` }, { field: 0, lang: 'fr', text: `${r.title_fr} (place${k})` },
    { field: 3, lang: 'en', text: r.description_en }, { field: 3, lang: 'fr', text: r.description_fr },
    { field: 4, lang: 'en', text: 'Employment and Social Development Canada' }, { field: 4, lang: 'fr', text: 'Emploi et Développement social Canada' },
  ];
});
console.log('build', n, performance.now() - t);
for (const q of qs) idx.search(q.q, q.lang);
const res: Array<[number, string, number]> = [];
for (let r = 0; r < 3; r++) for (const q of qs) {
  const c = process.cpuUsage();
  const m = idx.search(q.q, q.lang);
  const d = process.cpuUsage(c);
  res.push([(d.user + d.system) / 1000, `${q.lang} ${q.q}`, m.count]);
}
res.sort((a, b) => b[0] - a[0]);
console.log('p50', res[Math.floor(res.length / 2)][0], 'p99', res[Math.floor(res.length / 100)][0]);
console.log(res.slice(0, 12).map(([t, q, c]) => `${t.toFixed(2)} ${q} (${c})`).join('\n'));
await db.cleanup();
