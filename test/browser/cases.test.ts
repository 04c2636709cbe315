/**
 * One request across channels and agencies, in Chromium: started online by a client (no JavaScript), continued by a
 * contact-centre agent of the one-stop (with the client's one-time code), referred to a second organisation, and
 * finished at a counter. At each step: the due date (15 business days, Ontario holidays) stays right, the client
 * receives the right e-mail (real SMTP server on 127.0.0.1), and every page is axe-clean (WCAG 2.1 AA).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { Page } from 'playwright-core';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { clientCookie, createTestClient } from '../support/clients';
import { resetCasesMailer } from '../../src/cases/integration';
import { addBusinessDays, localDate } from '../../src/cases/due-date';
import { formatDate } from '../../src/i18n/index';

let env: BrowserEnv;
let smtp: SMTPServer;
const inbox: Array<{ to: string[]; raw: string }> = [];

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8').replace(/=\r?\n/g, '') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  process.env.SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`;
  resetCasesMailer();
  env = await startBrowserEnv();
});
after(async () => {
  await env?.close();
  resetCasesMailer();
  await new Promise<void>((r) => smtp.close(() => r()));
});

async function signInClient(page: Page, cookie: string) {
  const sid = /guichet_sid=([^;]+)/.exec(cookie)![1];
  await page.context().addCookies([{ name: 'guichet_sid', value: sid, url: env.baseUrl, httpOnly: true, sameSite: 'Lax' }]);
}

/** The client's e-mails so far, decoded enough to read (quoted-printable soft breaks removed). */
function mailsTo(address: string) {
  return inbox.filter((m) => m.to.includes(address)).map((m) => m.raw.replace(/=([0-9A-F]{2})/g, (_x, h) => String.fromCharCode(parseInt(h, 16))));
}

test('one request: online → contact centre → second organisation → counter', async () => {
  const email = 'chloe.browser@example.ca';
  const clientId = await createTestClient(env.db, { email, preferredLang: 'en', givenName: 'Chloé', familyName: 'Browser' });
  const cookie = await clientCookie(env.app, env.db, clientId);
  const expectedDue = addBusinessDays(localDate(new Date()), 15, 'CA-ON');
  const dueText = formatDate(expectedDue, 'en');

  // 1. Online, without JavaScript: the client starts a request for a birth certificate.
  const client = await env.newPage({ javaScriptEnabled: false });
  await signInClient(client, cookie);
  await client.goto(env.url('/en/my-file/requests'));
  await assertNoA11yViolations(client);
  await client.click('a[href="/en/my-file/requests/new"]');
  await assertNoA11yViolations(client);
  await client.click('form[action="/en/my-file/requests/new"] button');
  assert.match((await client.textContent('.govuk-error-summary')) ?? '', /Service/);
  await assertNoA11yViolations(client);
  await client.selectOption('#serviceId', 'demo-birth-certificate');
  await client.fill('#summary', 'Short-form birth certificate for my daughter Lou, born 2 March 2026 in Ottawa');
  await client.click('form[action="/en/my-file/requests/new"] button');
  await client.waitForURL(/\/en\/my-file\/requests\/[0-9a-f-]{36}$/);
  const caseUrl = client.url();
  const caseId = caseUrl.split('/').pop()!;
  assert.equal(await client.getAttribute('#case-due', 'data-due'), expectedDue);
  assert.match((await client.textContent('#case-due')) ?? '', new RegExp(dueText));
  assert.match((await client.textContent('#case-status')) ?? '', /Submitted/);
  assert.match((await client.textContent('#case-org')) ?? '', /Registrar General/);
  await assertNoA11yViolations(client);
  let mails = mailsTo(email);
  assert.equal(mails.length, 1);
  assert.match(mails[0], /is now: Submitted/);
  assert.match(mails[0], new RegExp(`Expected by: ${dueText}`));

  // 2. The client calls the contact centre and reads out a one-time code.
  await client.goto(env.url('/en/my-file/requests'));
  await client.click('form[action="/en/my-file/requests/agent-code"] button');
  const code = ((await client.textContent('#agent-code')) ?? '').replace(/\s+/g, '');
  assert.match(code, /^\d{8}$/);
  await assertNoA11yViolations(client);

  const agent = await env.newPage();
  await signInStaff(agent, env, 'staff-agent');
  await agent.goto(env.url('/en/staff/console'));
  await assertNoA11yViolations(agent);
  await agent.fill('#code', code);
  await agent.click('form[action="/en/staff/console/code"] button');
  await agent.waitForURL(/\/en\/staff\/console\?client=/);
  assert.match((await agent.textContent('#serving')) ?? '', /Chloé Browser/);
  await agent.fill('#q', 'birth certificate');
  await agent.click('form[action="/en/staff/console"] button');
  assert.match((await agent.textContent('#info-results')) ?? '', /Birth certificate/);
  await assertNoA11yViolations(agent);
  await agent.click(`#client-cases a[href="/en/staff/cases/${caseId}"]`);
  await assertNoA11yViolations(agent);
  await agent.selectOption('#interaction-channel', 'phone');
  await agent.selectOption('#outcome', 'information_given');
  await agent.fill('#interaction-note', 'Client also asked about a health card for the baby');
  await agent.click('#interaction-form button');
  await agent.waitForURL(new RegExp(`/en/staff/cases/${caseId}`));
  // Warm referral to the Ministry of Health, with the client's consent.
  await agent.selectOption('#toOrgId', 'on-moh');
  await agent.fill('#summary', 'Birth certificate ordered online (G- reference above). Client also needs a health card for her newborn; identity confirmed by one-time code.');
  await agent.check('#clientConsent');
  await agent.click('#referral-form button');
  await agent.waitForURL(new RegExp(`/en/staff/cases/${caseId}`));
  assert.match((await agent.textContent('#case-org')) ?? '', /Being handed over to Ontario Ministry of Health/);
  await assertNoA11yViolations(agent);

  await client.goto(caseUrl);
  assert.match((await client.textContent('#case-org')) ?? '', /Being handed over to Ontario Ministry of Health/);
  assert.equal(await client.getAttribute('#case-due', 'data-due'), expectedDue);
  await assertNoA11yViolations(client);

  // 3. The second organisation takes it from its queue, confirming the client repeated nothing.
  await env.db.insertInto('staff_users').values({ id: 'staff-moh-browser', email: 'agent@moh.example', name: 'Morgan MOH', org_id: 'on-moh', roles: ['agent'], oidc_subject: null }).execute();
  const moh = await env.newPage();
  await signInStaff(moh, env, 'staff-moh-browser');
  await moh.goto(env.url('/en/staff/cases?queue=referred'));
  await assertNoA11yViolations(moh);
  await moh.click(`#case-queue a[href="/en/staff/cases/${caseId}"]`);
  assert.match((await moh.textContent('#answer-form')) ?? '', /health card for her newborn/);
  await assertNoA11yViolations(moh);
  await moh.check('#answer-accept');
  await moh.check('#noRepeat-yes');
  await moh.click('#answer-form button');
  await moh.waitForURL(new RegExp(`/en/staff/cases/${caseId}`));
  assert.match((await moh.textContent('#case-org')) ?? '', /^\s*Ontario Ministry of Health/);
  await moh.goto(env.url('/en/staff/cases'));
  assert.match((await moh.textContent('#referral-stats')) ?? '', /accepted: 1; needing no repeat of information: 100/);
  await assertNoA11yViolations(moh);
  mails = mailsTo(email);
  assert.equal(mails.length, 2);
  assert.match(mails[1], /was handed to Ontario Ministry of Health/);
  assert.match(mails[1], new RegExp(`Expected by: ${dueText}`));

  // 4. Finished at a counter: the client walks into a service centre; the counter agent serves them with a new code.
  await client.goto(env.url('/en/my-file/requests'));
  await client.click('form[action="/en/my-file/requests/agent-code"] button');
  const code2 = ((await client.textContent('#agent-code')) ?? '').replace(/\s+/g, '');
  await env.db.insertInto('staff_users').values({ id: 'staff-counter-browser', email: 'counter@guichet.example', name: 'Cam Counter', org_id: 'guichet', roles: ['agent'], oidc_subject: null }).execute();
  const counter = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(counter, env, 'staff-counter-browser');
  await counter.goto(env.url('/en/staff/console'));
  await counter.fill('#code', code2);
  await counter.click('form[action="/en/staff/console/code"] button');
  await counter.click(`#client-cases a[href="/en/staff/cases/${caseId}"]`);
  await assertNoA11yViolations(counter);
  await counter.selectOption('#status', 'decided');
  await counter.fill('#decision', 'Birth certificate printed and handed to the client at the counter');
  await counter.selectOption('#status-channel', 'counter');
  await counter.click('#status-form button');
  await counter.waitForURL(new RegExp(`/en/staff/cases/${caseId}`));
  await counter.selectOption('#status', 'closed');
  await counter.click('#status-form button');
  await counter.waitForURL(new RegExp(`/en/staff/cases/${caseId}`));
  assert.match((await counter.textContent('#case-status')) ?? '', /Closed/);
  await assertNoA11yViolations(counter);

  await client.goto(caseUrl);
  const summary = (await client.textContent('#case-summary')) ?? '';
  assert.match(summary, /Closed/);
  assert.match(summary, /handed to the client at the counter/);
  assert.match(summary, /Ontario Ministry of Health/);
  const contacts = (await client.textContent('#interactions')) ?? '';
  assert.ok(contacts.length > 0);
  const table = (await client.locator('#interactions + table').textContent()) ?? '';
  for (const channel of ['Online', 'Phone', 'Counter']) assert.match(table, new RegExp(channel), `contacts on ${channel}`);
  assert.equal(await client.getAttribute('#case-due', 'data-due'), expectedDue, 'the clock did not restart across agencies');
  await assertNoA11yViolations(client);
  mails = mailsTo(email);
  assert.equal(mails.length, 4);
  assert.match(mails[2], /is now: Decided/);
  assert.match(mails[3], /is now: Closed/);

  // The same page in French.
  await client.goto(caseUrl.replace('/en/my-file/requests/', '/fr/mon-dossier/demandes/'));
  assert.match((await client.textContent('#case-status')) ?? '', /Fermée/);
  await assertNoA11yViolations(client);
});

test('an online form without JavaScript: pre-fill with consent, per-field errors, checkboxes, review, submit; every page axe-clean', async () => {
  const { publishForm } = await import('../../src/cases/forms');
  await publishForm(env.db, { id: 'staff-admin', orgId: 'on-org', roles: ['admin'] }, 'demo-register-birth', {
    title: { en: 'Register a birth', fr: 'Enregistrer une naissance' },
    pages: [
      {
        id: 'parent',
        title: { en: 'About you', fr: 'À propos de vous' },
        fields: [
          { name: 'given_name', type: 'text', required: true, prefill: 'given_name', label: { en: 'Your given name', fr: 'Votre prénom' } },
          { name: 'twins', type: 'radio', required: true, label: { en: 'More than one baby?', fr: 'Plus d’un bébé?' }, options: [{ value: 'no', label: { en: 'No', fr: 'Non' } }, { value: 'yes', label: { en: 'Yes', fr: 'Oui' } }] },
        ],
      },
      {
        id: 'baby',
        title: { en: 'About the baby', fr: 'À propos du bébé' },
        fields: [
          { name: 'baby_name', type: 'text', required: true, label: { en: 'Baby’s full name', fr: 'Nom complet du bébé' } },
          { name: 'born', type: 'date', required: true, dateRange: 'past', label: { en: 'Date of birth', fr: 'Date de naissance' }, help: { en: 'For example 2026-03-02', fr: 'Par exemple 2026-03-02' } },
          { name: 'languages', type: 'checkboxes', label: { en: 'Languages spoken at home', fr: 'Langues parlées à la maison' }, options: [{ value: 'en', label: { en: 'English', fr: 'Anglais' } }, { value: 'fr', label: { en: 'French', fr: 'Français' } }] },
        ],
      },
    ],
  }, null);
  const clientId = await createTestClient(env.db, { preferredLang: 'fr', givenName: 'Inès' });
  const page = await env.newPage({ javaScriptEnabled: false });
  await signInClient(page, await clientCookie(env.app, env.db, clientId));
  await page.goto(env.url('/fr/mon-dossier/demandes/nouvelle'));
  await page.click('#online-forms a[href="/fr/mon-dossier/formulaires/demo-register-birth"]');
  await assertNoA11yViolations(page);
  await page.check('#prefill');
  await page.click('form button');
  assert.equal(await page.inputValue('#given_name'), 'Inès');
  await assertNoA11yViolations(page);
  await page.click('button[value="continue"]');
  assert.match((await page.textContent('.govuk-error-summary')) ?? '', /Plus d’un bébé/);
  await assertNoA11yViolations(page);
  await page.check('#twins-1');
  await page.click('button[value="continue"]');
  await page.fill('#baby_name', 'Lou Tremblay');
  await page.fill('#born', '2999-01-01');
  await page.click('button[value="continue"]');
  assert.match((await page.textContent('#born-error')) ?? '', /aujourd’hui ou dans le passé/);
  await assertNoA11yViolations(page);
  await page.fill('#born', '2026-03-02');
  await page.check('#languages-2');
  await page.click('button[value="continue"]');
  await page.waitForURL(/verification$/);
  assert.match((await page.textContent('#answers')) ?? '', /Français/);
  await assertNoA11yViolations(page);
  await page.click('form button');
  await page.waitForURL(/\/fr\/mon-dossier\/demandes\/[0-9a-f-]{36}$/);
  assert.match((await page.textContent('#case-summary')) ?? '', /Lou Tremblay/);
  await assertNoA11yViolations(page);
});
