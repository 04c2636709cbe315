import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createTestApp } from '../test/support/app';
import { searchIndexStats } from '../src/catalogue/search/index';
import { buildQueries, scaleUp } from './search-data';
const ctx = await createTestApp({ catalogue: true });
const queries = await buildQueries(ctx);
await scaleUp(ctx, { fts: false });
await searchIndexStats(ctx.db);
process.env.GUICHET_SEARCH_CACHE = 'off';
const paths = queries.map((q) => `/api/v1/services?q=${encodeURIComponent(q.q)}&lang=${q.lang}`);
for (const u of paths) await ctx.app.inject({ method: 'GET', url: u });
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
for (let r = 0; r < 6; r++) for (const u of paths) await ctx.app.inject({ method: 'GET', url: u });
const { profile } = await session.post('Profiler.stop');
fs.writeFileSync('/tmp/sprof/inject.cpuprofile', JSON.stringify(profile));
// self time by function
const self = new Map<string, number>();
const total = profile.samples!.length;
const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
const counts = new Map<number, number>();
for (const s of profile.samples!) counts.set(s, (counts.get(s) ?? 0) + 1);
for (const [id, c] of counts) {
  const n: any = byId.get(id);
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + c);
}
console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, c]) => `${((100 * c) / total).toFixed(1)}% ${k}`).join('\n'));
await ctx.close();
