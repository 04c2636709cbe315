import { PGlite } from '@electric-sql/pglite';
const t = Date.now();
const pg = new PGlite();
await pg.waitReady;
console.log('ready', Date.now() - t);
console.log((await pg.query('select version()')).rows);
