import crypto from 'node:crypto';
import pg from 'pg';
import { benchServer, sha256 as sha } from '../bench/support';
const log: string[] = [];
const orig = pg.Client.prototype.query as any;
(pg.Client.prototype as any).query = function (this: any, ...args: any[]) {
  const q = typeof args[0] === 'string' ? args[0] : args[0]?.text;
  if (q) log.push(q.replace(/\s+/g, ' ').slice(0, 150));
  return orig.apply(this, args);
};
const { database, app, db } = await benchServer(4);
const tpl = await db.selectFrom('offices').selectAll().where('id', '=', 'ottawa-ben-franklin').executeTakeFirstOrThrow();
const id = 'bench-office-0';
await db.insertInto('offices').values({ ...tpl, id, name_en: 'B', name_fr: 'B', created_at: undefined as any, is_demo: true }).execute();
await db.insertInto('office_services').values(['demo-dog-licence'].map((service_id) => ({ office_id: id, service_id }))).execute();
await db.insertInto('office_organisations').values(['guichet', 'ottawa'].map((org_id) => ({ office_id: id, org_id }))).execute();
await db.insertInto('staff_users').values({ id: 'qa', email: 'qa@x', name: 'qa', org_id: 'guichet', roles: ['agent'], oidc_subject: null }).execute();
await db.insertInto('agent_profiles').values({ staff_id: 'qa', skills: [], languages: ['en', 'fr'], lent_to_org_id: null }).execute();
const [c] = await db.insertInto('counters').values({ office_id: id, label: '1', org_id: null, agent_id: 'qa', opened_at: new Date() }).returning(['id']).execute();
const token = crypto.randomBytes(32).toString('base64url');
const csrf = crypto.randomBytes(24).toString('base64url');
await db.insertInto('sessions').values({ id: sha(token), kind: 'staff', subject_id: 'qa', data: JSON.stringify({}), expires_at: new Date(Date.now() + 3600_000) }).execute();
const headers = { cookie: `guichet_csrf=${csrf}; guichet_sid=${token}`, 'x-csrf-token': csrf, 'content-type': 'application/json' };
for (let round = 0; round < 2; round++) {
  let tid = '';
  const steps: Array<[string, () => Promise<any>]> = [
    ['create', () => app.inject({ method: 'POST', url: `/api/v1/offices/${id}/tickets`, headers, payload: { services: ['demo-dog-licence'], language: 'en' } })],
    ['call-next', async () => { const r = await app.inject({ method: 'POST', url: `/api/v1/offices/${id}/counters/${c.id}/call-next`, headers: { cookie: headers.cookie, "x-csrf-token": csrf } }); tid = r.json().ticket?.id; return r; }],
    ['complete', () => app.inject({ method: 'POST', url: `/api/v1/offices/${id}/tickets/${tid}/complete`, headers, payload: {} })],
  ];
  for (const [name, f] of steps) {
    log.length = 0;
    const r = await f();
    if (round === 1) { console.log(`== ${name} ${r.statusCode} queries=${log.length}`); for (const q of log) console.log('   ' + q); }
  }
}
await app.close();
await database.cleanup();
