import { createTestDb } from '/work/main/test/support/db';
import { searchServices, explainQuery, searchIndexStats } from '/work/main/src/catalogue/search/index';
import { RELEVANCE_SET } from '/work/main/src/catalogue/search/relevance-set';
const t0 = Date.now();
const db = await createTestDb({ catalogue: true });
console.log('db', Date.now() - t0);
console.log(await searchIndexStats(db.db));
let rr = 0;
for (const c of RELEVANCE_SET) {
  const r = await searchServices(db.db, { q: c.q, lang: c.lang, page: 1, pageSize: 10 });
  const rank = r.items.findIndex((i) => c.expected.includes(i.id)) + 1;
  rr += rank ? 1 / rank : 0;
  if (rank !== 1) console.log(rank, c.q, c.lang, (await explainQuery(db.db, c.q, c.lang)).join(' '), '\n   ', r.items.slice(0, 3).map((i) => `${i.id} ${i.title} ${i.score}`).join(' | '));
}
console.log('MRR', rr / RELEVANCE_SET.length, RELEVANCE_SET.length);
await db.cleanup();
