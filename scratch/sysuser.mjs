import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.argv[2], max: 1 });
await pool.query('select 1');
const c = process.cpuUsage(); const t = performance.now(); const N = 5000;
for (let i = 0; i < N; i++) await pool.query('select $1::int as x', [i]);
const d = process.cpuUsage(c); const w = performance.now() - t;
console.log(process.argv[2], `per query: wall ${(w * 1000 / N).toFixed(0)}us user ${(d.user / N).toFixed(0)}us sys ${(d.system / N).toFixed(0)}us`);
await pool.end();
