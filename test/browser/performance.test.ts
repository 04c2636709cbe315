/**
 * Satisfaction and performance in Chromium (JavaScript off for the client pages, axe on every page):
 * a client completes a service online (its form, submitted; the request decided by the responsible organisation on
 * its case page) and rates it from the request page; a counter visitor rates the visit through
 * the link e-mailed to them (real SMTP); the public charter shows the service's figures; the partner's report shows
 * the comments; the managers' dashboard shows the adoption rate (chart drawn with JavaScript, table without).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { clientCookie, createTestClient } from '../support/clients';
import { ingestAll } from '../../src/performance/ingest';
import { recordContactEvent, rollupPending } from '../../src/performance/events';
import { mintToken, queueSurveyMails, sendSurveyMails } from '../../src/performance/survey';
import { respond } from '../../src/performance/survey';
import { createMailer } from '../../src/mail/mailer';

let env: BrowserEnv;
let smtp: TestSmtp;
before(async () => {
  smtp = await startSmtp();
  env = await startBrowserEnv();
});
after(async () => {
  await env?.close();
  await smtp?.close();
});

async function signInClient(page: Page, cookie: string) {
  const sid = /guichet_sid=([^;]+)/.exec(cookie)![1];
  await page.context().addCookies([{ name: 'guichet_sid', value: sid, url: env.baseUrl, httpOnly: true, sameSite: 'Lax' }]);
}

test('rate online and after a counter visit; the charter, the partner report and the dashboard show it', async () => {
  const db = env.db;
  // The birth certificate: an online form (its owner, the Registrar General, publishes it) and a service centre that offers it.
  const serviceId = 'demo-birth-certificate';
  const orgId = 'on-org';
  const officeId = (await db.selectFrom('office_services').select('office_id').where('service_id', '=', serviceId).orderBy('office_id').executeTakeFirstOrThrow()).office_id;
  const { publishForm } = await import('../../src/cases/forms');
  await publishForm(db, { id: 'staff-admin', orgId, roles: ['admin'] }, serviceId, {
    title: { en: 'Order a birth certificate', fr: 'Commander un certificat de naissance' },
    pages: [{
      id: 'order', title: { en: 'Your order', fr: 'Votre commande' },
      fields: [{ name: 'copies', type: 'number', required: true, min: 1, max: 5, label: { en: 'Number of copies', fr: 'Nombre de copies' } }],
    }],
  }, null);
  await db.insertInto('staff_users').values({ id: 'perf-registrar', email: 'registrar@org.example', name: 'Rae Registrar', org_id: orgId, roles: ['agent'], oidc_subject: null }).execute();

  // 1. A client completes the service online, without JavaScript: the form, submitted; the Registrar decides the
  //    request on its case page; the client rates it from the request page at the end of the journey.
  const cid = await createTestClient(db);
  const cookie = await clientCookie(env.app, db, cid);
  const client = await env.newPage({ javaScriptEnabled: false });
  await signInClient(client, cookie);
  await client.goto(env.url(`/en/my-file/forms/${serviceId}`));
  await assertNoA11yViolations(client);
  await client.click('form button'); // start
  await client.fill('#copies', '2');
  await client.click('button[value="continue"]');
  await client.waitForURL(/\/review$/);
  await assertNoA11yViolations(client);
  await client.click('form button'); // submit
  await client.waitForURL(/\/en\/my-file\/requests\/[0-9a-f-]{36}$/);
  const caseId = client.url().split('/').pop()!;
  const registrar = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(registrar, env, 'perf-registrar');
  await registrar.goto(env.url(`/en/staff/cases/${caseId}`));
  await registrar.selectOption('#status', 'decided');
  await registrar.fill('#decision', 'Approved: 2 copies mailed');
  await registrar.click('#status-form button');
  await registrar.waitForURL(new RegExp(`/en/staff/cases/${caseId}`));
  assert.equal((await db.selectFrom('cases').select('status').where('id', '=', caseId).executeTakeFirstOrThrow()).status, 'decided');
  await client.goto(env.url(`/en/my-file/requests/${caseId}`));
  await client.click('#survey-offer-link');
  await assertNoA11yViolations(client);
  await client.click('#survey-submit'); // no score: an error, announced, nothing stored
  assert.match(await client.locator('.govuk-error-summary').innerText(), /Choose a score/);
  await assertNoA11yViolations(client);
  await client.check('#score');
  await client.fill('#comment', 'Quick and clear. My number is 613-555-0142.');
  await client.click('#survey-submit');
  assert.match(await client.locator('h1').innerText(), /Thank you/);
  await assertNoA11yViolations(client);
  await ingestAll(db);
  const counted = await sql<{ n: number }>`select count(*)::int as n from perf_events where source = 'case' and source_id = ${caseId} and channel = 'web' and outcome = 'completed'`.execute(db);
  assert.equal(counted.rows[0].n, 1, 'the online request is counted once, as a web transaction completed');

  // 2. A counter visit with an e-mail address: counted, invitation e-mailed, rated through the link (in French).
  const ticketId = crypto.randomUUID();
  const done = new Date(Date.now() - 120_000);
  await sql`insert into tickets (id, office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel, email, done_at)
    values (${ticketId}, ${officeId}, current_date, 990, 'Z990', ${serviceId}, ${orgId}, 'fr', 'none', 'done', ${done}, ${done}, ${done}, 'kiosk', 'visiteur@client.example', ${done})`.execute(db);
  await sql`insert into ticket_visits (ticket_id, office_id, service_id, org_id, queued_at, called_at, served_at, done_at, outcome, wait_seconds, service_seconds)
    values (${ticketId}, ${officeId}, ${serviceId}, ${orgId}, ${done}, ${done}, ${done}, ${done}, 'served', 240, 420)`.execute(db);
  await ingestAll(db);
  await queueSurveyMails(db);
  const mailer = createMailer({ SMTP_URL: smtp.url });
  await sendSurveyMails(db, mailer, env.baseUrl);
  mailer.close();
  const mail = smtp.inbox.find((m) => m.to.includes('visiteur@client.example'));
  assert.ok(mail, 'the visitor got an invitation');
  const link = /(http:\/\/127\.0\.0\.1:\d+\/fr\/rendement\/sondage\/svy_[A-Za-z0-9_-]{43})/.exec(mail!.raw.replace(/=\r?\n/g, ''))![1];
  const visitor = await env.newPage({ javaScriptEnabled: false });
  await visitor.goto(link);
  await assertNoA11yViolations(visitor);
  await visitor.check('#score-4');
  await visitor.fill('#comment', 'Agent très aimable, écrivez-moi à moi@exemple.ca');
  await visitor.click('#survey-submit');
  assert.match(await visitor.locator('h1').innerText(), /Merci/);
  await visitor.goto(link); // the link works once
  assert.match(await visitor.locator('body').innerText(), /ne peut pas être utilisé/);

  // Enough figures for the public charter to show them (cells under 10 are suppressed).
  for (let i = 0; i < 12; i++) {
    await recordContactEvent(db, { source: 'browser-test', sourceId: String(i), kind: 'contact', channel: i < 8 ? 'web' : 'counter', serviceId, officeId: i < 8 ? null : officeId, outcome: 'completed', occurredAt: new Date(Date.now() - 3600_000) });
  }
  await rollupPending(db); // the job's next run
  for (let i = 0; i < 8; i++) await respond(db, (await mintToken(db, { serviceId, channel: 'web' }))!, { score: String(3 + (i % 3)), lang: 'en' });

  // 3. The public charter shows both.
  const pub = await env.newPage();
  await pub.goto(env.url(`/en/performance/services/${encodeURIComponent(serviceId)}`));
  await assertNoA11yViolations(pub);
  assert.equal(await pub.locator('#satisfaction-table tbody tr').count(), 6);
  assert.doesNotMatch(await pub.locator('main').innerText(), /Quick and clear|aimable/, 'the public never sees comments');
  assert.match(await pub.locator('#satisfied').innerText(), /%/);
  assert.match(await pub.locator('#take-up').innerText(), /%/);
  await pub.waitForFunction(() => (window as unknown as { perfCharts?: unknown[] }).perfCharts?.length === 2);
  const charter = await env.newPage({ javaScriptEnabled: false });
  await charter.goto(env.url('/fr/rendement'));
  await assertNoA11yViolations(charter);
  assert.match(await charter.locator('h1').innerText(), /Rendement des services/);

  // 4. The partner's report shows its comments (scrubbed); the manager's dashboard shows the adoption rate.
  await db.insertInto('staff_users').values({ id: 'perf-partner', email: 'perf-partner@partner.example', name: 'Pat Partner', org_id: orgId, roles: ['partner'], oidc_subject: null }).execute();
  const partner = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(partner, env, 'perf-partner');
  await partner.goto(env.url(`/en/staff/performance/report?month=${new Date().toISOString().slice(0, 7)}`));
  await assertNoA11yViolations(partner);
  const comments = await partner.locator('#comments').innerText();
  assert.match(comments, /Quick and clear\. My number is \[…\]\./);
  assert.match(comments, /Agent très aimable, écrivez-moi à \[…\]/);
  const manager = await env.newPage();
  await signInStaff(manager, env, 'staff-admin');
  await manager.goto(env.url('/en/staff/performance'));
  await assertNoA11yViolations(manager, { exclude: ['canvas'] });
  assert.match(await manager.locator('#ind-take-up').innerText(), /%/);
  assert.ok(await manager.locator('#trend-table tbody tr').count() >= 1);
  await manager.waitForFunction(() => ((window as unknown as { perfCharts?: unknown[] }).perfCharts?.length ?? 0) >= 1);
});
