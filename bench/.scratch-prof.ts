import { createTestDb } from '../test/support/db';
import { TextIndex } from '../src/catalogue/search/engine';
import { SERVICE_FIELDS } from '../src/catalogue/search/index';
const db = await createTestDb({ catalogue: true });
const rows = await db.db.selectFrom('services').selectAll().execute();
let t = performance.now();
const docs = (i: number) => { const r = rows[i]; return [
  { field: 0, lang: 'en' as const, text: r.title_en }, { field: 0, lang: 'fr' as const, text: r.title_fr },
  { field: 3, lang: 'en' as const, text: r.description_en }, { field: 3, lang: 'fr' as const, text: r.description_fr }]; };
TextIndex.build(rows.length, SERVICE_FIELDS, docs);
console.log('build1', performance.now() - t);
t = performance.now();
TextIndex.build(rows.length, SERVICE_FIELDS, docs);
console.log('build2', performance.now() - t);
await db.cleanup();
import { words } from '../src/catalogue/search/normalise';
{
const db2 = await createTestDb({ catalogue: true });
const rows2 = await db2.db.selectFrom('services').selectAll().execute();
for (let k = 0; k < 3; k++) {
let t2 = performance.now(); let n = 0;
for (const r of rows2) for (const x of [r.title_en, r.title_fr, r.description_en, r.description_fr]) n += words(x).length;
console.log('words', performance.now() - t2, n);
t2 = performance.now();
TextIndex.build(rows2.length, SERVICE_FIELDS, (i: number) => { const r = rows2[i]; return [
  { field: 0, lang: 'en' as const, text: r.title_en }, { field: 0, lang: 'fr' as const, text: r.title_fr },
  { field: 3, lang: 'en' as const, text: r.description_en }, { field: 3, lang: 'fr' as const, text: r.description_fr }]; });
console.log('build', performance.now() - t2);
}
await db2.cleanup();
}
