/**
 * What a newcomer meets in the staff area and with the demo (issue 16): each demo person's home links only to pages
 * they may open; role names in the page's language; a signed-out visit to a page that needs sign-in goes to sign-in
 * and back; an online request for the demo driver's licence is seen by the owning partner's demo agent and manager
 * and is due by the online standard, not the kiosk's 3 minutes; the counter page's plural and transfer choice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoStaff } from '../src/catalogue/demo-data';
import { DEMO_OFFICE, ensureDemoCounters } from '../src/counters/demo';
import { addBusinessDays, localDate } from '../src/cases/due-date';
import { buildApp } from '../src/http/app';
import { capabilities } from '../src/capabilities';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { clientCookie, createTestClient } from './support/clients';

describe('staff area and the demo people', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
  });
  after(async () => {
    await t?.close();
  });

  it('every demo person is shown only links they may open', async () => {
    let opened = 0;
    for (const person of demoStaff) {
      const cookie = await staffCookie(t.app, person.id);
      for (const lang of ['en', 'fr'] as const) {
        const home = await t.app.inject({ method: 'GET', url: lang === 'en' ? '/en/staff' : '/fr/personnel', headers: { cookie, accept: 'text/html' } });
        assert.equal(home.statusCode, 200, person.id);
        const list = /<ul class="govuk-list" id="staff-links">([\s\S]*?)<\/ul>/.exec(home.body)?.[1] ?? '';
        const links = [...list.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
        assert.ok(links.length > 0, `${person.id} has something to open`);
        for (const href of links) {
          const page = await t.app.inject({ method: 'GET', url: href, headers: { cookie, accept: 'text/html' } });
          opened++;
          assert.ok(page.statusCode === 200 || page.statusCode === 303, `${person.id} (${person.roles.join(',')}) ${href} → ${page.statusCode}`);
        }
      }
    }
    assert.ok(opened > 20);
    // an agent does not see the catalogue editor; an editor does; the one-stop admin sees Tell Us Once and the offices
    const links = async (id: string) => (await t.app.inject({ method: 'GET', url: '/en/staff', headers: { cookie: await staffCookie(t.app, id), accept: 'text/html' } })).body;
    assert.ok(!(await links('staff-agent')).includes('/en/staff/catalogue'));
    assert.ok((await links('staff-mto-editor')).includes('/en/staff/catalogue'));
    const admin = await links('staff-admin');
    assert.ok(admin.includes('/en/staff/counters') && admin.includes('/en/staff/tell-us-once'));
  });

  it('the links come from the capabilities; a link to a page that does not exist stops the start', async () => {
    const broken = { name: 'broken', migrationGroup: '999_broken', migrations: {}, messages: [], staffLinks: [{ href: { en: '/en/staff/nowhere', fr: '/fr/personnel/nulle-part' }, text: 'staff.link.cases' }] };
    const app = await buildApp({ config: t.config, database: t.database, logger: false, capabilities: [...capabilities, broken] });
    await assert.rejects(async () => { await app.ready(); }, /staff links to pages that do not exist: \/en\/staff\/nowhere, \/fr\/personnel\/nulle-part/);
    await app.close().catch(() => undefined);
  });

  it('the French staff login and home show French role names', async () => {
    const login = await t.app.inject({ method: 'GET', url: '/fr/personnel/connexion', headers: { accept: 'text/html' } });
    assert.ok(login.body.includes('(administrateur, gestionnaire)'), 'role names in French');
    assert.ok(!/\((admin|agent, editor|editor)[,)]/.test(login.body));
    const home = await t.app.inject({ method: 'GET', url: '/fr/personnel', headers: { cookie: await staffCookie(t.app, 'staff-reviewer'), accept: 'text/html' } });
    assert.match(home.body, /Rôles : réviseur, rédacteur, gestionnaire/);
  });

  it('a signed-out visit to a request page goes to sign-in and comes back; the API keeps its 401', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/en/my-file/requests/00000000-0000-4000-8000-000000000000', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/en/sign-in?returnTo=%2Fen%2Fmy-file%2Frequests%2F00000000-0000-4000-8000-000000000000');
    const fr = await t.app.inject({ method: 'GET', url: '/fr/mon-dossier/demandes', headers: { accept: 'text/html' } });
    assert.equal(fr.statusCode, 303);
    assert.match(String(fr.headers.location), /^\/fr\/connexion\?returnTo=%2Ffr%2Fmon-dossier%2Fdemandes$/);
    const staff = await t.app.inject({ method: 'GET', url: '/en/staff/cases', headers: { accept: 'text/html' } });
    assert.equal(staff.statusCode, 303);
    assert.equal(staff.headers.location, '/en/staff/login?returnTo=%2Fen%2Fstaff%2Fcases');
    // the staff login carries it and comes back to the page
    const login = await t.app.inject({ method: 'GET', url: staff.headers.location as string });
    assert.ok(login.body.includes('name="returnTo" value="/en/staff/cases"'));
    const csrf = login.cookies.find((c) => c.name === 'guichet_csrf')!.value;
    const signedIn = await t.app.inject({ method: 'POST', url: '/en/staff/login', headers: { cookie: `guichet_csrf=${csrf}` }, payload: { _csrf: csrf, staffId: 'staff-agent', returnTo: '/en/staff/cases' } });
    assert.equal(signedIn.statusCode, 303);
    assert.equal(signedIn.headers.location, '/en/staff/cases');
    const offsite = await t.app.inject({ method: 'POST', url: '/en/staff/login', headers: { cookie: `guichet_csrf=${csrf}` }, payload: { _csrf: csrf, staffId: 'staff-agent', returnTo: '//evil.example/' } });
    assert.equal(offsite.headers.location, '/en/staff');
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/cases', headers: { accept: 'text/html' } });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().error.code, 'UNAUTHENTICATED');
  });

  it('an online request for the demo driver’s licence: seen by the MTO agent and manager, due by the online standard', async () => {
    const clientId = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, clientId);
    const opened = await t.app.inject({ method: 'POST', url: '/api/v1/cases', headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, payload: { serviceId: 'demo-driver-licence', summary: 'Renew my licence' } });
    assert.equal(opened.statusCode, 201, opened.body);
    const c = opened.json();
    const row = await t.db.selectFrom('cases').select(['due_date', 'responsible_org_id']).where('id', '=', c.id).executeTakeFirstOrThrow();
    assert.equal(row.responsible_org_id, 'on-mto');
    assert.equal(row.due_date, addBusinessDays(localDate(new Date()), 5, 'CA-ON'), 'five business days (the online standard), not today (the kiosk’s 3 minutes)');
    for (const id of ['staff-mto-agent', 'staff-mto-manager']) {
      const staff = await staffCookie(t.app, id);
      const queue = await t.app.inject({ method: 'GET', url: '/en/staff/cases', headers: { cookie: staff, accept: 'text/html' } });
      assert.equal(queue.statusCode, 200);
      assert.ok(queue.body.includes(c.reference), `${id} sees the request`);
    }
  });

  it('the counter page: plural rules, and Transfer to starts with no choice', async () => {
    await ensureDemoCounters(t.db);
    const cookie = await staffCookie(t.app, 'staff-agent');
    const url = `/en/staff/offices/${DEMO_OFFICE}/counter`;
    let page = await t.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
    assert.equal(page.statusCode, 200);
    const counterId = /name="counterId" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(counterId, 'a counter to open');
    const post = (payload: Record<string, string>) => t.app.inject({ method: 'POST', url, headers: { cookie, accept: 'text/html' }, payload: { _csrf: csrfFrom(cookie), ...payload } });
    assert.equal((await post({ action: 'open', counterId })).statusCode, 303);
    const ticket = await t.app.inject({ method: 'POST', url: `/api/v1/offices/${DEMO_OFFICE}/tickets`, headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, payload: { services: ['demo-health-card'], language: 'en' } });
    assert.ok(ticket.statusCode < 300, ticket.body);
    page = await t.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
    assert.match(page.body, /\b1 client waiting at this office\./);
    const fr = await t.app.inject({ method: 'GET', url: `/fr/personnel/bureaux/${DEMO_OFFICE}/comptoir`, headers: { cookie, accept: 'text/html' } });
    assert.match(fr.body, /\b1 client en attente dans ce bureau\./);
    assert.equal((await post({ action: 'call' })).statusCode, 303);
    page = await t.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
    assert.match(page.body, /<select class="govuk-select" id="f-transferTo" name="transferTo">\s*<option value="">Choose a service or a counter<\/option>/);
    const ticketId = /name="ticketId" value="([^"]+)"/.exec(page.body)![1];
    const none = await post({ action: 'transfer', ticketId, transferTo: '' });
    assert.equal(none.statusCode, 400);
    assert.ok(none.body.includes('Choose a service or a counter to transfer the client to.'));
    assert.ok(none.body.includes('href="#f-transferTo"'));
  });
});
