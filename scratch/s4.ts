const { openDatabase } = await import('../src/db/database');
const { migrateToLatest } = await import('../src/db/migrate');
const { importGcInventory } = await import('../src/catalogue/import-gc');
const d = await openDatabase({});
await migrateToLatest(d.db);
const r = await importGcInventory(d.db, 'seed/gc-service-inventory');
console.error(r.problems);
