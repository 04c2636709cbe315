import crypto from 'node:crypto';
import pg from 'pg';
import { benchServer, sha256 as sha } from '../bench/support';

const log: string[] = [];
const orig = pg.Client.prototype.query as any;
(pg.Client.prototype as any).query = function (this: any, ...args: any[]) {
  const q = typeof args[0] === 'string' ? args[0] : args[0]?.text;
  if (q) log.push(q.replace(/\s+/g, ' ').slice(0, 160));
  return orig.apply(this, args);
};
const { database, app, db } = await benchServer(4);
const now = new Date();
const staffId = 'bench-agent-0';
const clientId = crypto.randomUUID();
const token = crypto.randomBytes(32).toString('base64url');
const csrf = crypto.randomBytes(24).toString('base64url');
await db.insertInto('staff_users').values({ id: staffId, email: `${staffId}@guichet.example`, name: 'A', org_id: 'guichet', roles: ['agent'], oidc_subject: null }).execute();
await db.insertInto('clients').values({ id: clientId, kind: 'person', oidc_subject: `bench-${clientId}`, given_name: 'B', family_name: 'C', business_name: null, business_number: null, birth_date: null, email: null, phone: null, preferred_lang: 'en', contact_preferences: JSON.stringify({ email: false }), accessibility_needs: null }).execute();
const consentId = crypto.randomUUID();
await db.insertInto('consents').values({ id: consentId, client_id: clientId, org_id: 'guichet', purpose: 'agent-access', fields: ['profile', 'cases'], legal_basis: 'consent', law_reference: null, valid_until: new Date(now.getTime() + 6 * 3600_000), withdrawn_at: null }).execute();
await db.insertInto('client_access_codes').values({ id: crypto.randomUUID(), code_hash: sha(`x`), client_id: clientId, expires_at: now, used_at: now, used_by: staffId, consent_id: consentId }).execute();
await db.insertInto('sessions').values({ id: sha(token), kind: 'staff', subject_id: staffId, data: JSON.stringify({}), expires_at: new Date(now.getTime() + 6 * 3600_000) }).execute();
const headers = { cookie: `guichet_csrf=${csrf}; guichet_sid=${token}`, 'x-csrf-token': csrf, 'content-type': 'application/json', accept: 'application/json' };
for (let round = 0; round < 2; round++) {
  const steps: Array<[string, () => Promise<any>]> = [];
  let caseId = '';
  steps.push(['search', () => app.inject({ method: 'GET', url: '/en/staff/console?q=passport', headers: { ...headers, accept: 'text/html' } })]);
  steps.push(['open', async () => { const r = await app.inject({ method: 'POST', url: '/api/v1/cases', headers, payload: { serviceId: 'demo-birth-certificate', summary: 'Caller needs help', channel: 'phone', clientId } }); caseId = r.json().id; return r; }]);
  steps.push(['interaction', () => app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/interactions`, headers, payload: { channel: 'phone', outcome: 'information_given', note: 'x' } })]);
  steps.push(['refer', () => app.inject({ method: 'POST', url: `/api/v1/cases/${caseId}/referrals`, headers, payload: { toOrgId: 'on-mto', summary: 'context', clientConsent: true, channel: 'phone' } })]);
  for (const [name, f] of steps) {
    log.length = 0;
    const r = await f();
    if (round === 1) { console.log(`== ${name} ${r.statusCode} queries=${log.length}`); for (const q of log) console.log('   ' + q); }
  }
}
{ const r = await app.inject({ method: "GET", url: "/en/staff/console?q=passport", headers: { ...headers, accept: "text/html" } }); console.log("console bytes", r.body.length); const h = await app.inject({ method: "GET", url: "/healthz" }); console.log("healthz", h.body.length); }
await app.close();
await database.cleanup();
