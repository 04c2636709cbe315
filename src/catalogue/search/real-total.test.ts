/** On a database holding only the real GC Service Inventory (no demo set), "all published services" is 1,716. */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createTestDb, SEED_DIR, type TestDatabase } from '../../../test/support/db';
import { importGcInventory } from '../import-gc';
import { searchOrganisations, searchServices } from './index';

let database: TestDatabase;
before(async () => {
  database = await createTestDb();
  const report = await importGcInventory(database.db, path.join(SEED_DIR, 'gc-service-inventory'));
  assert.equal(report.services.total, 1716);
});
after(async () => {
  await database?.cleanup();
});

it('lists exactly the 1,716 services of the real inventory without a query', async () => {
  const all = await searchServices(database.db, { lang: 'en', page: 1, pageSize: 10 });
  assert.equal(all.total, 1716);
  assert.ok(all.items.every((i) => !i.isDemo));
  const fr = await searchServices(database.db, { lang: 'fr', page: 172, pageSize: 10 });
  assert.equal(fr.total, 1716);
  assert.equal(fr.items.length, 6, 'the last page holds the remainder');
  assert.equal(fr.facets.level.find((l) => l.value === 'federal')?.count, 1716);
  assert.deepEqual(fr.facets.lifeEvent, [], 'no life events without the demo set');
  const orgs = await searchOrganisations(database.db, { lang: 'en', page: 1, pageSize: 100 });
  assert.equal(orgs.items.reduce((s, o) => s + o.services, 0), 1716);
});
