import { PGlite } from '@electric-sql/pglite';
const variant = process.argv[2];
const opts = variant === 'a' ? { dataDir: undefined } : variant === 'b' ? { loadDataDir: undefined } : { parsers: { 20: (v) => Number(v) } };
const t = Date.now();
const pg = new PGlite(opts);
await pg.waitReady;
console.log(variant, 'ready', Date.now() - t, (await pg.query('select 1::int8 as x')).rows);
