import crypto from 'node:crypto';
import { benchServer, sha256 as sha } from '../bench/support';
const { database, app, db } = await benchServer(4);
const tpl = await db.selectFrom('offices').selectAll().where('id', '=', 'ottawa-ben-franklin').executeTakeFirstOrThrow();
const id = 'bench-office-0';
await db.insertInto('offices').values({ ...tpl, id, name_en: 'B', name_fr: 'B', created_at: undefined as any, is_demo: true }).execute();
await db.insertInto('office_services').values(['demo-dog-licence', 'demo-health-card'].map((service_id) => ({ office_id: id, service_id }))).execute();
await db.insertInto('office_organisations').values(['guichet', 'ottawa', 'on-moh'].map((org_id) => ({ office_id: id, org_id }))).execute();
const counters: Array<{ id: string; h: Record<string, string> }> = [];
for (let i = 0; i < 20; i++) {
  const sid = `qa${i}`;
  await db.insertInto('staff_users').values({ id: sid, email: `${sid}@x`, name: sid, org_id: 'guichet', roles: ['agent'], oidc_subject: null }).execute();
  await db.insertInto('agent_profiles').values({ staff_id: sid, skills: [], languages: ['en', 'fr'], lent_to_org_id: null }).execute();
  const [c] = await db.insertInto('counters').values({ office_id: id, label: String(i), org_id: null, agent_id: sid, opened_at: new Date() }).returning(['id']).execute();
  const token = crypto.randomBytes(32).toString('base64url');
  const csrf = crypto.randomBytes(24).toString('base64url');
  await db.insertInto('sessions').values({ id: sha(token), kind: 'staff', subject_id: sid, data: JSON.stringify({}), expires_at: new Date(Date.now() + 3600_000) }).execute();
  counters.push({ id: c.id, h: { cookie: `guichet_csrf=${csrf}; guichet_sid=${token}`, 'x-csrf-token': csrf } });
}
const cpu: Record<string, number> = { create: 0, call: 0, complete: 0, health: 0 };
const N = Number(process.env.N ?? 400);
const BACKLOG = Number(process.env.BACKLOG ?? 20);
const time = async (k: string, f: () => Promise<any>) => { const c = process.cpuUsage(); const r = await f(); const d = process.cpuUsage(c); cpu[k] += (d.user + d.system) / 1000; return r; };
const create = () => app.inject({ method: 'POST', url: `/api/v1/offices/${id}/tickets`, headers: { ...counters[0].h, 'content-type': 'application/json' }, payload: { services: [Math.random() < 0.5 ? 'demo-dog-licence' : 'demo-health-card'], language: 'en' } });
for (let i = 0; i < BACKLOG; i++) await create();
for (let round = 0; round < 2; round++) {
  for (const k in cpu) cpu[k] = 0;
  for (let i = 0; i < N; i++) {
    const c = counters[i % 20];
    const r1 = await time('create', create);
    if (r1.statusCode !== 201) throw new Error(r1.body);
    const r2 = await time('call', () => app.inject({ method: 'POST', url: `/api/v1/offices/${id}/counters/${c.id}/call-next`, headers: c.h }));
    const t = r2.json().ticket;
    if (!t) throw new Error('no ticket ' + r2.body);
    const r3 = await time('complete', () => app.inject({ method: 'POST', url: `/api/v1/offices/${id}/tickets/${t.id}/complete`, headers: { ...c.h, 'content-type': 'application/json' }, payload: {} }));
    if (r3.statusCode !== 200) throw new Error(r3.body);
    await time('health', () => app.inject({ method: 'GET', url: '/healthz' }));
  }
}
console.log(Object.entries(cpu).map(([k, v]) => `${k}=${(v / N).toFixed(3)}ms`).join(' '), `(backlog ${BACKLOG}, ${database.kind})`);
await app.close();
await database.cleanup();
