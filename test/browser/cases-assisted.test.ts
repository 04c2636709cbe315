/**
 * The agent console's assisted channel and warm referral of a question, in Chromium without JavaScript: an agent
 * serving a client fills in an online form with them, the responsible organisation assigns the case and attaches a
 * document from the case page, the agent hands a question to another organisation, which answers it; the client
 * follows everything in their file. Every page is axe-clean (WCAG 2.1 AA).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { assertNoA11yViolations, signInStaff, startBrowserEnv, type BrowserEnv } from './support/browser';
import { clientCookie, createTestClient } from '../support/clients';

let env: BrowserEnv;
before(async () => {
  env = await startBrowserEnv();
});
after(async () => {
  await env?.close();
});

async function signInClient(page: Page, cookie: string) {
  const sid = /guichet_sid=([^;]+)/.exec(cookie)![1];
  await page.context().addCookies([{ name: 'guichet_sid', value: sid, url: env.baseUrl, httpOnly: true, sameSite: 'Lax' }]);
}

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);

test('assisted online form, case page assign and attach, question referral: no JavaScript, every page axe-clean', async () => {
  const { publishForm } = await import('../../src/cases/forms');
  await publishForm(env.db, { id: 'staff-admin', orgId: 'on-org', roles: ['admin'] }, 'demo-birth-certificate', {
    title: { en: 'Order a birth certificate', fr: 'Commander un certificat de naissance' },
    pages: [
      {
        id: 'you',
        title: { en: 'About you', fr: 'À propos de vous' },
        fields: [
          { name: 'given_name', type: 'text', required: true, prefill: 'given_name', label: { en: 'Your given name', fr: 'Votre prénom' } },
          { name: 'copies', type: 'number', required: true, min: 1, max: 5, label: { en: 'Number of copies', fr: 'Nombre de copies' } },
        ],
      },
    ],
  }, null);
  await env.db
    .insertInto('staff_users')
    .values([
      { id: 'staff-assist-browser', email: 'assist@guichet.example', name: 'Ari Assist', org_id: 'guichet', roles: ['agent'], oidc_subject: null },
      { id: 'staff-org-browser', email: 'org@org.example', name: 'Olu Registrar', org_id: 'on-org', roles: ['agent'], oidc_subject: null },
      { id: 'staff-moh-q-browser', email: 'q@moh.example', name: 'Mo Health', org_id: 'on-moh', roles: ['agent'], oidc_subject: null },
    ])
    .execute();
  const clientId = await createTestClient(env.db, { preferredLang: 'en', givenName: 'Inès', familyName: 'Assisted' });
  const client = await env.newPage({ javaScriptEnabled: false });
  await signInClient(client, await clientCookie(env.app, env.db, clientId));
  await client.goto(env.url('/en/my-file/requests'));
  await client.click('form[action="/en/my-file/requests/agent-code"] button');
  const code = ((await client.textContent('#agent-code')) ?? '').replace(/\s+/g, '');

  // 1. The agent serves the client and fills in the online form with them.
  const agent = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(agent, env, 'staff-assist-browser');
  await agent.goto(env.url('/en/staff/console'));
  await agent.fill('#code', code);
  await agent.click('form[action="/en/staff/console/code"] button');
  await agent.click('#assisted-form-link');
  await assertNoA11yViolations(agent);
  await agent.click(`#assisted-forms a[href="/en/staff/console/clients/${clientId}/forms/demo-birth-certificate"]`);
  assert.match((await agent.textContent('#assisted-banner')) ?? '', /Inès Assisted/);
  await assertNoA11yViolations(agent);
  await agent.check('#prefill');
  await agent.click('form button');
  assert.equal(await agent.inputValue('#given_name'), 'Inès');
  await agent.fill('#copies', '9');
  await agent.click('button[value="continue"]');
  assert.match((await agent.textContent('.govuk-error-summary')) ?? '', /Number of copies/);
  await assertNoA11yViolations(agent);
  await agent.fill('#copies', '2');
  await agent.click('button[value="continue"]');
  await agent.waitForURL(/\/review$/);
  await assertNoA11yViolations(agent);
  await agent.click('form button');
  assert.match((await agent.textContent('.govuk-error-summary')) ?? '', /How is the client with you/);
  await assertNoA11yViolations(agent);
  await agent.check('#channel-phone');
  await agent.click('form button');
  await agent.waitForURL(/\/en\/staff\/cases\/[0-9a-f-]{36}$/);
  const caseId = agent.url().split('/').pop()!;
  assert.match((await agent.textContent('#case-summary')) ?? '', /Number of copies: 2/);
  await assertNoA11yViolations(agent);

  // 2. The responsible organisation assigns it and attaches a document from the case page.
  const org = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(org, env, 'staff-org-browser');
  await org.goto(env.url(`/en/staff/cases/${caseId}`));
  await assertNoA11yViolations(org);
  await org.fill('#team', 'Vital statistics');
  await org.selectOption('#staffId', 'staff-org-browser');
  await org.click('#assign-form button');
  assert.match((await org.textContent('#case-assigned')) ?? '', /Vital statistics — Olu Registrar/);
  await org.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a pdf') });
  await org.click('#document-form button');
  assert.match((await org.textContent('#file-error')) ?? '', /Only PDF, PNG and JPEG/);
  await assertNoA11yViolations(org);
  await org.setInputFiles('#file', { name: 'proof.png', mimeType: 'image/png', buffer: PNG });
  await org.click('#document-form button');
  assert.match((await org.textContent('#documents + ul')) ?? '', /proof\.png/);

  // 3. The agent hands a question to MOH, with a context summary and the client's consent.
  await agent.goto(env.url(`/en/staff/console?client=${clientId}`));
  await agent.click('#refer-question-link');
  await assertNoA11yViolations(agent);
  await agent.selectOption('#toOrgId', 'on-moh');
  await agent.click('#question-form button');
  assert.match((await agent.textContent('.govuk-error-summary')) ?? '', /Client’s consent/);
  await assertNoA11yViolations(agent);
  await agent.fill('#question', 'Does my baby need a health card right away?');
  await agent.fill('#summary', 'Birth certificate ordered today; baby born in March.');
  await agent.check('#clientConsent');
  await agent.click('#question-form button');
  await agent.waitForURL(/\/en\/staff\/questions\/[0-9a-f-]{36}$/);
  const questionId = agent.url().split('/').pop()!;
  await assertNoA11yViolations(agent);

  // 4. MOH finds it in its referral queue and answers it.
  const moh = await env.newPage({ javaScriptEnabled: false });
  await signInStaff(moh, env, 'staff-moh-q-browser');
  await moh.goto(env.url('/en/staff/cases?queue=referred'));
  await assertNoA11yViolations(moh);
  await moh.click(`#question-queue a[href="/en/staff/questions/${questionId}"]`);
  assert.match((await moh.textContent('#question-context')) ?? '', /baby born in March/);
  await assertNoA11yViolations(moh);
  await moh.fill('#answer', 'Yes: register the baby with OHIP within 30 days.');
  await moh.click('#question-answer-form button');
  assert.match((await moh.textContent('.govuk-error-summary')) ?? '', /Repeat of information/);
  await assertNoA11yViolations(moh);
  await moh.fill('#answer', 'Yes: register the baby with OHIP within 30 days.');
  await moh.check('#noRepeat-yes');
  await moh.click('#question-answer-form button');
  assert.match((await moh.textContent('#question-status')) ?? '', /Answered/);
  await assertNoA11yViolations(moh);

  // 5. The client sees the request opened by phone, and the answer, in their file (both languages).
  await client.goto(env.url('/en/my-file/requests'));
  assert.match((await client.textContent('#my-requests')) ?? '', /Office of the Registrar General/);
  assert.match((await client.textContent('#my-questions')) ?? '', /Answered/);
  await assertNoA11yViolations(client);
  await client.click(`#my-questions a[href="/en/my-file/questions/${questionId}"]`);
  assert.match((await client.textContent('#question-answer')) ?? '', /within 30 days/);
  await assertNoA11yViolations(client);
  await client.goto(env.url(`/fr/mon-dossier/questions/${questionId}`));
  assert.match((await client.textContent('#question-status')) ?? '', /Répondue/);
  await assertNoA11yViolations(client);
  await client.goto(env.url(`/en/my-file/requests/${caseId}`));
  assert.match((await client.textContent('#case-summary')) ?? '', /Phone/);
  await assertNoA11yViolations(client);
});
