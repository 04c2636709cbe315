console.error('start');
const { PGlite } = await import('@electric-sql/pglite');
console.error('imported');
const pg = new PGlite();
await pg.waitReady;
console.error('ready');
