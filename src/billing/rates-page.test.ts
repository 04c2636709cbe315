/**
 * The billing rates form on an agreement's staff pages (one-stop managers): EN/FR pages, the three models saved in
 * integer cents, refused input shown in a translated error summary with nothing written, the overlap of two
 * agreements of one partner (409), CSRF, and who may open it (one-stop managers only: anyone else 403).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { getTerms } from './billing';
import { addAgreement } from './test/fixtures';

let t: TestApp;
const cookies: Record<string, string> = {};
let agreement = '';
const CRA = 'cra-arc';
const url = (lang: 'en' | 'fr', id = agreement) => (lang === 'en' ? `/en/staff/agreements/${id}/billing-rates` : `/fr/personnel/ententes/${id}/tarifs-facturation`);
const page = (who: string, lang: 'en' | 'fr' = 'en', id = agreement) => t.app.inject({ method: 'GET', url: url(lang, id), headers: { cookie: cookies[who], accept: 'text/html' } });
const post = (who: string, fields: Record<string, string | string[]>, lang: 'en' | 'fr' = 'en', csrf = true) => {
  const form = new URLSearchParams();
  if (csrf) form.append('_csrf', csrfFrom(cookies[who]));
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  return t.app.inject({ method: 'POST', url: url(lang), payload: form.toString(), headers: { cookie: cookies[who], 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
};
const summary = (html: string) => /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
const terms = async () => {
  const x = await getTerms(t.db, agreement);
  return x && { model: x.model, frequency: x.frequency, info: Number(x.info_only_cents), tx: Number(x.transaction_cents), yearly: Number(x.yearly_cents), from: x.valid_from, to: x.valid_to, rates: x.channelRates, services: x.service_ids };
};

before(async () => {
  t = await createTestApp({ catalogue: true });
  for (const s of ['staff-admin', 'staff-cra-partner', 'staff-agent', 'staff-mto-manager']) cookies[s] = await staffCookie(t.app, s);
  agreement = await addAgreement(t.db, CRA, { start: '2026-01-01', end: '2030-12-31' });
});
after(async () => t.close());

test('a manager opens the form in both languages; the agreement page links to it', async () => {
  const en = await page('staff-admin');
  assert.equal(en.statusCode, 200, en.body.slice(0, 300));
  assert.match(en.body, /This agreement has no billing rates yet/);
  assert.match(en.body, /name="_csrf" value="[^"]+"/);
  for (const id of ['model', 'frequency', 'rate_web', 'rate_phone', 'rate_counter', 'info_mode', 'info', 'transaction', 'yearly', 'valid_from', 'valid_to']) {
    assert.match(en.body, new RegExp(`id="${id}"`), id);
  }
  assert.match(en.body, /<label class="govuk-label" for="rate_phone">\s*Rate for phone\s*<\/label>/);
  assert.match(en.body, /value="2026-01-01"/, 'valid from defaults to the agreement’s start');
  const fr = await page('staff-admin', 'fr');
  assert.equal(fr.statusCode, 200);
  assert.match(fr.body, /Tarifs de facturation de l’entente AGR-/);
  assert.match(fr.body, /Simples demandes de renseignements/);
  assert.match(fr.body, /<div class="govuk-input__suffix"[^>]*>\$<\/div>/, 'the dollar sign after the amount in French');
  const view = await t.app.inject({ method: 'GET', url: `/en/staff/agreements/${agreement}`, headers: { cookie: cookies['staff-admin'], accept: 'text/html' } });
  assert.equal(view.statusCode, 200);
  assert.ok(view.body.includes(`href="/en/staff/agreements/${agreement}/billing-rates"`), 'linked from the agreement page');
});

test('per interaction by channel, information free then priced, in integer cents', async () => {
  const saved = await post('staff-admin', { model: 'per_interaction', frequency: 'monthly', rate_phone: '7.50', rate_counter: '$14', rate_web: '', info_mode: 'free', info: '', valid_from: '2026-01-01', valid_to: '' });
  assert.equal(saved.statusCode, 303, saved.body.slice(0, 500));
  assert.equal(saved.headers.location, `${url('en')}?saved=1`);
  assert.deepEqual(await terms(), { model: 'per_interaction', frequency: 'monthly', info: 0, tx: 0, yearly: 0, from: '2026-01-01', to: null, rates: { phone: 750, counter: 1400 }, services: null });
  const shown = await t.app.inject({ method: 'GET', url: saved.headers.location as string, headers: { cookie: cookies['staff-admin'], accept: 'text/html' } });
  assert.match(shown.body, /The billing rates were saved/);
  assert.match(shown.body, /Rates in force from/);
  assert.match(shown.body, /id="rate_phone" name="rate_phone" type="text"[^>]* value="7.50"|value="7.50"[^>]*id="rate_phone"/);
  // French decimal comma, information priced
  const fr = await post('staff-admin', { model: 'per_interaction', frequency: 'daily', rate_phone: '7,50', info_mode: 'priced', info: '2,25', valid_from: '2026-01-01', valid_to: '2026-12-31' }, 'fr');
  assert.equal(fr.statusCode, 303);
  assert.equal(fr.headers.location, `${url('fr')}?saved=1`);
  assert.deepEqual(await terms(), { model: 'per_interaction', frequency: 'daily', info: 225, tx: 0, yearly: 0, from: '2026-01-01', to: '2026-12-31', rates: { phone: 750 }, services: null });
});

test('per completed transaction and fixed yearly amount', async () => {
  assert.equal((await post('staff-admin', { model: 'per_transaction', frequency: 'monthly', transaction: '3.25', rate_phone: '99', valid_from: '2026-01-01' })).statusCode, 303);
  const tx = await terms();
  assert.equal(tx!.model, 'per_transaction');
  assert.equal(tx!.tx, 325);
  assert.deepEqual(tx!.rates, {}, 'only the chosen model’s amounts are kept');
  assert.equal((await post('staff-admin', { model: 'fixed_yearly', frequency: 'monthly', yearly: '120 000,00', valid_from: '2026-01-01' })).statusCode, 303);
  const y = await terms();
  assert.deepEqual([y!.model, y!.yearly, y!.tx], ['fixed_yearly', 12_000_000, 0]);
});

test('refused input: a translated error summary linked to each field, and nothing written', async () => {
  const before = await terms();
  // amounts that are not amounts (checked by the form)
  const bad = await post('staff-admin', { model: 'per_interaction', frequency: 'monthly', rate_web: '1.234', rate_phone: 'seven', info_mode: 'priced', info: '', valid_from: '2026-01-01' });
  assert.equal(bad.statusCode, 400);
  const s = summary(bad.body);
  assert.match(s, /There is a problem/);
  assert.match(s, /href="#rate_web">Rate for web: Enter a whole number of cents\./);
  assert.match(s, /href="#rate_phone">Rate for phone: This is not valid\./);
  assert.match(s, /href="#info">Price of an information-only contact: Enter this information\./);
  assert.match(bad.body, /govuk-form-group--error[\s\S]*?id="rate_web"/);
  assert.match(bad.body, /value="seven"/, 'what was typed is shown again');
  // refused by the rules (setTerms): negative, above the maximum, no model, a fixed amount billed daily, bad dates — in French
  const neg = await post('staff-admin', { model: 'per_interaction', frequency: 'monthly', rate_phone: '-7', info_mode: 'free', valid_from: '2026-01-01' }, 'fr');
  assert.equal(neg.statusCode, 400);
  assert.match(summary(neg.body), /href="#rate_phone">Tarif — téléphone : Ce nombre est trop petit\.|href="#rate_phone">Tarif — téléphone: Ce nombre est trop petit\./);
  const big = await post('staff-admin', { model: 'per_transaction', frequency: 'monthly', transaction: '100000.01', valid_from: '2026-01-01' });
  assert.equal(big.statusCode, 400);
  assert.match(summary(big.body), /href="#transaction">Price of a completed transaction: This number is too large\./);
  const none = await post('staff-admin', { frequency: 'monthly', valid_from: '2026-01-01' });
  assert.equal(none.statusCode, 400);
  assert.match(summary(none.body), /href="#model">How the partner is billed: Enter this information\./);
  const daily = await post('staff-admin', { model: 'fixed_yearly', frequency: 'daily', yearly: '1000', valid_from: '2026-01-01' });
  assert.equal(daily.statusCode, 400);
  assert.match(summary(daily.body), /href="#frequency">Invoices: A fixed yearly amount is billed monthly\./);
  const dates = await post('staff-admin', { model: 'per_transaction', frequency: 'monthly', transaction: '1', valid_from: '2026-02-30' });
  assert.equal(dates.statusCode, 400);
  assert.match(summary(dates.body), /href="#valid_from">From: This is not valid\./);
  const order = await post('staff-admin', { model: 'per_transaction', frequency: 'monthly', transaction: '1', valid_from: '2026-05-01', valid_to: '2026-04-30' });
  assert.equal(order.statusCode, 400);
  assert.match(summary(order.body), /href="#valid_to">To \(optional\): The end date must be on or after the start date\./);
  const empty = await post('staff-admin', { model: 'per_interaction', frequency: 'monthly', info_mode: 'free', valid_from: '2026-01-01' });
  assert.equal(empty.statusCode, 400);
  assert.match(summary(empty.body), /href="#rate_web">Rate for web: Enter this information\./);
  assert.deepEqual(await terms(), before, 'nothing written');
});

test('two agreements of one partner cannot have rates in force on the same days (409, in the summary)', async () => {
  const other = await addAgreement(t.db, CRA, { start: '2026-01-01', end: '2030-12-31' });
  const r = await t.app.inject({
    method: 'POST', url: url('en', other), headers: { cookie: cookies['staff-admin'], 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    payload: new URLSearchParams({ _csrf: csrfFrom(cookies['staff-admin']), model: 'per_transaction', frequency: 'monthly', transaction: '1', valid_from: '2026-06-01' }).toString(),
  });
  assert.equal(r.statusCode, 409);
  assert.match(summary(r.body), /This partner already has billing terms in force on some of these days\./);
  assert.equal(await getTerms(t.db, other), null);
});

test('CSRF, and who may: the partner’s staff and another organisation 403, a one-stop agent 403, no agreement 404, signed out to sign-in', async () => {
  const noCsrf = await post('staff-admin', { model: 'per_transaction', frequency: 'monthly', transaction: '1', valid_from: '2026-01-01' }, 'en', false);
  assert.equal(noCsrf.statusCode, 403);
  const before = await terms();
  assert.equal((await page('staff-cra-partner')).statusCode, 403);
  assert.equal((await post('staff-cra-partner', { model: 'per_transaction', frequency: 'monthly', transaction: '1', valid_from: '2026-01-01' })).statusCode, 403);
  // no role of any partner organisation may (as the API): another organisation's manager is refused before any row is read
  const other = await page('staff-mto-manager');
  assert.equal(other.statusCode, 403);
  assert.doesNotMatch(other.body, /Billing test agreement|AGR-/);
  assert.equal((await post('staff-mto-manager', { model: 'per_transaction', frequency: 'monthly', transaction: '1', valid_from: '2026-01-01' })).statusCode, 403);
  assert.equal((await page('staff-agent')).statusCode, 403);
  assert.equal((await page('staff-admin', 'en', '00000000-0000-4000-8000-000000000000')).statusCode, 404);
  assert.equal((await page('staff-admin', 'en', 'not-a-uuid')).statusCode, 404);
  assert.deepEqual(await terms(), before, 'nothing written');
  const anonymous = await t.app.inject({ method: 'GET', url: url('fr'), headers: { accept: 'text/html' } });
  assert.equal(anonymous.statusCode, 303);
  assert.match(String(anonymous.headers.location), /^\/fr\/personnel\/connexion/);
});
