import { createTestDb } from '../test/support/db';
import { searchServices } from '../src/catalogue/search/index';
import { RELEVANCE_SET } from '../src/catalogue/search/relevance-set';
const db = await createTestDb({ catalogue: true });
const rows = await db.db.selectFrom('services').select(['title_en', 'title_fr']).where('source', '=', 'gc-inventory').orderBy('id').execute();
const qs: Array<{ q: string; lang: 'en' | 'fr' }> = RELEVANCE_SET.map((c) => ({ q: c.q, lang: c.lang }));
for (let i = 0; i < rows.length; i += 13) {
  const en = rows[i].title_en.split(/\s+/).filter((w) => w.length > 3);
  const fr = rows[i].title_fr.split(/\s+/).filter((w) => w.length > 3);
  if (en.length >= 2) qs.push({ q: en.slice(0, 2 + (i % 2)).join(' ').toLowerCase(), lang: 'en' });
  if (fr.length >= 2) qs.push({ q: fr.slice(-2).join(' '), lang: 'fr' });
}
for (const q of qs) await searchServices(db.db, { ...q, page: 1, pageSize: 10 }, { cache: false });
const res: Array<[number, string]> = [];
for (let r = 0; r < 3; r++) for (const q of qs) {
  const t = performance.now();
  await searchServices(db.db, { ...q, page: 1, pageSize: 10 }, { cache: false });
  res.push([performance.now() - t, `${q.lang} ${q.q}`]);
}
res.sort((a, b) => b[0] - a[0]);
console.log(res.slice(0, 15).map(([t, q]) => `${t.toFixed(2)} ${q}`).join('\n'));
await db.cleanup();
