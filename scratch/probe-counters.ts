import { createTestApp, staffCookie, csrfFrom } from '../test/support/app';
import { sql } from 'kysely';
const t = await createTestApp({ catalogue: true });
const ck = await staffCookie(t.app, 'staff-agent');
const h = { cookie: ck, 'x-csrf-token': csrfFrom(ck) };
const cs = (await t.app.inject({ url: '/api/v1/offices/ottawa-ben-franklin/counters', headers: h })).json().counters;
const c1 = cs.find((c: any) => c.label === '1').id;
await t.app.inject({ method: 'POST', url: `/api/v1/offices/ottawa-ben-franklin/counters/${c1}/open`, headers: h });
const time = async (label: string, n: number, f: () => Promise<unknown>) => {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await f(); xs.push(performance.now() - t0); }
  xs.sort((a, b) => a - b);
  console.log(label, 'p50', xs[Math.floor(n / 2)].toFixed(2), 'p99', xs[Math.floor(n * 0.99)].toFixed(2));
};
await time('select 1', 200, () => sql`select 1`.execute(t.db));
await time('healthz', 200, () => t.app.inject('/healthz'));
await time('create', 200, () => t.app.inject({ method: 'POST', url: '/api/v1/offices/ottawa-ben-franklin/tickets', headers: h, payload: { services: ['gc-1292'], language: 'en' } }));
let id = '';
await time('call-next', 100, async () => {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/offices/ottawa-ben-franklin/counters/${c1}/call-next`, headers: h });
  id = r.json().ticket.id;
  await t.app.inject({ method: 'POST', url: `/api/v1/offices/ottawa-ben-franklin/tickets/${id}/complete`, headers: h, payload: {} });
});
await t.close();
