const { openDatabase } = await import('../src/db/database');
const { migrateToLatest } = await import('../src/db/migrate');
const { importGcInventory } = await import('../src/catalogue/import-gc');
const fs = await import('node:fs');
fs.mkdirSync('scratch/inv', { recursive: true });
const si = fs.readFileSync('seed/gc-service-inventory/si_2024.csv', 'utf8').split('\n');
si[1] = si[1].replace(/^2023-2024,3595,/, '2023-2024,,'); // line 2 bad
fs.writeFileSync('scratch/inv/si_2024.csv', si.join('\n'));
const d = await openDatabase({}); await migrateToLatest(d.db);
console.error((await importGcInventory(d.db, 'scratch/inv')).problems);
