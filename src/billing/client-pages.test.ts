/**
 * A business's subscriber account in its file (client pages, no JavaScript): a director takes the subscription (an
 * error first), sees its status, renewal date, statements and what is carried over, in English and French, and
 * cancels it (an error first); an employee reads it but cannot take or cancel it (403); a person who does not
 * represent the business gets 404; no session goes to the sign-in page. Reads and changes are in the business's
 * access log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, csrfFrom, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { addRepresentative } from '../clients/accounts';
import { localDate } from '../i18n/index';
import { addMonths, BILLING_TZ } from './billing';
import { chargeOnAccount, runStatements, subscriptionOf } from './subscriptions';

let t: TestApp;
let biz = '';
const cookies: Record<string, string> = {};
const url = (lang: 'en' | 'fr' = 'en', tail = '') => (lang === 'en' ? `/en/my-file/businesses/${biz}/subscription${tail}` : `/fr/mon-dossier/entreprises/${biz}/abonnement${tail}`);
const get = (who: string, u: string) => t.app.inject({ method: 'GET', url: u, headers: who ? { cookie: cookies[who], accept: 'text/html' } : { accept: 'text/html' } });
const post = (who: string, u: string, body: Record<string, string>) =>
  t.app.inject({ method: 'POST', url: u, payload: new URLSearchParams({ ...body, _csrf: csrfFrom(cookies[who]) }).toString(), headers: { cookie: cookies[who], 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });

before(async () => {
  t = await createTestApp({ catalogue: true });
  biz = await createTestClient(t.db, { kind: 'business', businessName: 'Quincaillerie Laurier inc.', businessNumber: '987654320' });
  for (const [who, role] of [['director', 'director'], ['employee', 'employee'], ['stranger', null]] as const) {
    const id = await createTestClient(t.db, { givenName: who, familyName: 'Test', preferredLang: 'en' });
    if (role) await addRepresentative(t.db, biz, id, role);
    cookies[who] = await clientCookie(t.app, t.db, id);
  }
});
after(async () => t.close());

test('a director takes, reads and cancels the subscription; an employee only reads; others 404', async () => {
  const none = await get('director', url());
  assert.equal(none.statusCode, 200);
  assert.match(none.body, /This business has no subscription/);
  assert.match(none.body, /Acting for/);
  assert.equal((await get('stranger', url())).statusCode, 404);
  const anon = await get('', url());
  assert.equal(anon.statusCode, 303);
  assert.match(String(anon.headers.location), /^\/en\/sign-in\?returnTo=/);

  // The choice is required: the error summary points at the radios, nothing is written.
  const bad = await post('director', url('en', '/take'), {});
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /govuk-error-summary/);
  assert.match(bad.body, /href="#autoRenew"/);
  assert.equal(await subscriptionOf(t.db, biz), null);
  // An employee may not commit the business.
  assert.equal((await post('employee', url('en', '/take'), { autoRenew: 'yes' })).statusCode, 403);
  assert.equal((await post('stranger', url('en', '/take'), { autoRenew: 'yes' })).statusCode, 404);
  assert.equal(await subscriptionOf(t.db, biz), null);

  const took = await post('director', url('en', '/take'), { autoRenew: 'yes' });
  assert.equal(took.statusCode, 303);
  assert.equal(took.headers.location, `${url()}?done=taken`);
  const sub = (await subscriptionOf(t.db, biz))!;
  assert.deepEqual([sub.status, sub.auto_renew, sub.yearly_cents], ['active', true, 7500]);
  const twice = await post('director', url('en', '/take'), { autoRenew: 'yes' });
  assert.equal(twice.statusCode, 409);
  assert.match(twice.body, /already has an active subscription/);

  // This month: the yearly fee, issued; next month: a $4 transaction, under the $15 minimum, carried.
  const month = `${localDate(new Date(), BILLING_TZ).slice(0, 7)}-01`;
  const next = addMonths(month, 1);
  await runStatements(t.db, month, next);
  await chargeOnAccount(t.db, { businessId: biz, basketRef: 'basket-42', amountCents: 400, on: `${next.slice(0, 8)}15` });
  await runStatements(t.db, next, addMonths(next, 1));

  const page = await get('director', `${url()}?done=taken`);
  assert.match(page.body, /The subscription was taken/);
  assert.match(page.body, /Active/);
  assert.match(page.body, new RegExp(`Renews automatically on ${new Intl.DateTimeFormat('en-CA', { dateStyle: 'long', timeZone: 'America/Toronto' }).format(new Date(`${sub.ends_on}T12:00:00Z`))}`));
  assert.match(page.body, /id="statements"/);
  assert.match(page.body, /Under the minimum: carried to the next month/);
  assert.match(page.body, /Carried over to next month\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*\$4\.00/);
  assert.match(page.body, /basket-42/);
  assert.match(page.body, /Cancel the subscription/);
  const fr = await get('employee', url('fr'));
  assert.equal(fr.statusCode, 200);
  assert.match(fr.body, /Compte d’abonné/);
  assert.match(fr.body, /Se renouvelle automatiquement le/);
  assert.match(fr.body, /Reporté au mois suivant\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*4,00\s*\$/);
  assert.match(fr.body, /Seul un propriétaire ou un administrateur/);
  assert.doesNotMatch(fr.body, /abonnement\/annuler/);

  const unconfirmed = await post('director', url('en', '/cancel'), {});
  assert.equal(unconfirmed.statusCode, 400);
  assert.match(unconfirmed.body, /href="#confirm"/);
  assert.equal((await subscriptionOf(t.db, biz))!.status, 'active');
  assert.equal((await post('employee', url('fr', '/annuler'), { confirm: 'yes' })).statusCode, 403);
  const cancelled = await post('director', url('fr', '/annuler'), { confirm: 'yes' });
  assert.equal(cancelled.statusCode, 303);
  assert.equal((await subscriptionOf(t.db, biz))!.status, 'cancelled');
  const after = await get('director', url('fr') + '?done=cancelled');
  assert.match(after.body, /L’abonnement a été annulé/);
  assert.match(after.body, /Annulé le/);
  assert.match(after.body, /Prendre un abonnement annuel/);

  // The business's access log: the reads and the two changes, by whom and on what basis.
  const log = (await t.db.selectFrom('access_log').select(['action', 'fields', 'legal_basis']).where('client_id', '=', biz).execute()).filter((r) => r.fields.includes('subscription'));
  assert.ok(log.some((r) => r.action === 'write' && r.legal_basis === 'representative:director'));
  assert.ok(log.some((r) => r.action === 'read' && r.legal_basis === 'representative:employee'));
});
