/** Billing over HTTP: API authorisation (managers all, partners their own, other partner 404), pages EN/FR, CSV, print, disputes. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { addAgreement, addCase, addInteraction, addVisit, world } from './test/fixtures';

let t: TestApp;
const cookies: Record<string, string> = {};
const CRA = 'cra-arc';
const ESDC = 'esdc-edsc';
let invoiceCra = 0;
const h = (who: string) => ({ cookie: cookies[who], 'x-csrf-token': csrfFrom(cookies[who]) });
let invoiceEsdc = 0;

before(async () => {
  t = await createTestApp({ catalogue: true });
  for (const s of ['staff-admin', 'staff-cra-partner', 'staff-esdc-editor', 'staff-agent']) cookies[s] = await staffCookie(t.app, s);
  const w = await world(t.db, [CRA, ESDC]);
  const at = new Date('2026-10-14T15:00:00Z');
  const ids: Record<string, string> = {};
  for (const org of [CRA, ESDC]) {
    ids[org] = await addAgreement(t.db, org);
    const c = await addCase(t.db, w, org);
    await addInteraction(t.db, c, { channel: 'phone', at });
    await addInteraction(t.db, c, { channel: 'phone', at });
    await addVisit(t.db, w, org, { at });
  }
  const put = (id: string, body: object) => t.app.inject({ method: 'PUT', url: `/api/v1/billing/terms/${id}`, headers: h('staff-admin'), payload: body });
  // Bad rates: translated 4xx with a code, nothing written.
  const bad = await t.app.inject({ method: 'PUT', url: `/api/v1/billing/terms/${ids[CRA]}?lang=fr`, headers: h('staff-admin'), payload: { model: 'per_interaction', frequency: 'monthly', validFrom: '2026-01-01', channelRates: { phone: -700 } } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'INVALID_AMOUNT');
  assert.match(bad.json().error.message, /montant/);
  const byPartner = await t.app.inject({ method: 'PUT', url: `/api/v1/billing/terms/${ids[CRA]}`, headers: h('staff-cra-partner'), payload: { model: 'per_interaction', frequency: 'monthly', validFrom: '2026-01-01', channelRates: { phone: 700 } } });
  assert.equal(byPartner.statusCode, 403);
  assert.equal((await put(ids[CRA], { model: 'per_interaction', frequency: 'monthly', validFrom: '2026-01-01', channelRates: { phone: 750, counter: 1400 } })).statusCode, 200);
  assert.equal((await put(ids[ESDC], { model: 'per_interaction', frequency: 'monthly', validFrom: '2026-01-01', channelRates: { phone: 500, counter: 500 } })).statusCode, 200);
  const denied = await t.app.inject({ method: 'POST', url: '/api/v1/billing/runs', headers: h('staff-cra-partner'), payload: { frequency: 'monthly', periodStart: '2026-10-01' } });
  assert.equal(denied.statusCode, 403);
  const run = await t.app.inject({ method: 'POST', url: '/api/v1/billing/runs', headers: h('staff-admin'), payload: { frequency: 'monthly', periodStart: '2026-10-01' } });
  assert.equal(run.statusCode, 201, run.body);
  const again = await t.app.inject({ method: 'POST', url: '/api/v1/billing/runs', headers: h('staff-admin'), payload: { frequency: 'monthly', periodStart: '2026-10-01' } });
  assert.deepEqual([again.statusCode, again.json().invoiceIds], [200, []]);
  const all = (await t.app.inject({ method: 'GET', url: '/api/v1/billing/invoices', headers: h('staff-admin') })).json();
  invoiceCra = all.find((i: any) => i.partner_org_id === CRA).id;
  invoiceEsdc = all.find((i: any) => i.partner_org_id === ESDC).id;
});
after(async () => t.close());

test('API: managers see all, a partner only its own; another partner’s invoice is 404', async () => {
  const mine = (await t.app.inject({ method: 'GET', url: '/api/v1/billing/invoices', headers: h('staff-cra-partner') })).json();
  assert.ok(mine.length === 1 && mine[0].partner_org_id === CRA);
  const own = await t.app.inject({ method: 'GET', url: `/api/v1/billing/invoices/${invoiceCra}`, headers: h('staff-cra-partner') });
  assert.equal(own.statusCode, 200);
  assert.equal(own.json().invoice.total_cents, 2 * 750 + 1400);
  const other = await t.app.inject({ method: 'GET', url: `/api/v1/billing/invoices/${invoiceEsdc}`, headers: h('staff-cra-partner') });
  assert.deepEqual([other.statusCode, other.json().error.code], [404, 'INVOICE_NOT_FOUND']);
  for (const id of ['abc', '0', '99999999999999999999', '12345']) {
    const r = await t.app.inject({ method: 'GET', url: `/api/v1/billing/invoices/${id}`, headers: h('staff-admin') });
    assert.equal(r.statusCode, 404, id);
  }
  assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/billing/invoices' })).statusCode, 401);
  assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/billing/invoices', headers: h('staff-agent') })).statusCode, 403);
  const items = await t.app.inject({ method: 'GET', url: `/api/v1/billing/invoices/${invoiceCra}/lines/${own.json().lines[0].id}/items`, headers: h('staff-cra-partner') });
  assert.equal(items.json().items.length, own.json().lines[0].quantity);
  // Disputes: on the partner's own line only.
  const lineId = own.json().lines[0].id;
  const otherLine = (await t.app.inject({ method: 'GET', url: `/api/v1/billing/invoices/${invoiceEsdc}`, headers: h('staff-admin') })).json().lines[0].id;
  const onOther = await t.app.inject({ method: 'POST', url: `/api/v1/billing/invoices/${invoiceEsdc}/lines/${otherLine}/disputes`, headers: h('staff-cra-partner'), payload: { reason: 'not ours' } });
  assert.deepEqual([onOther.statusCode, onOther.json().error.code], [404, 'INVOICE_NOT_FOUND']);
  const mixed = await t.app.inject({ method: 'POST', url: `/api/v1/billing/invoices/${invoiceCra}/lines/${otherLine}/disputes`, headers: h('staff-cra-partner'), payload: { reason: 'mixed ids' } });
  assert.equal(mixed.statusCode, 404);
  const d = await t.app.inject({ method: 'POST', url: `/api/v1/billing/invoices/${invoiceCra}/lines/${lineId}/disputes`, headers: h('staff-cra-partner'), payload: { reason: 'One call was a wrong number' } });
  assert.equal(d.statusCode, 201);
  const resolved = await t.app.inject({ method: 'POST', url: `/api/v1/billing/disputes/${d.json().id}/resolve`, headers: h('staff-admin'), payload: { decision: 'rejected', resolution: 'The call lasted 9 minutes.' } });
  assert.equal(resolved.json().status, 'rejected');
  const twice = await t.app.inject({ method: 'POST', url: `/api/v1/billing/disputes/${d.json().id}/resolve?lang=fr`, headers: h('staff-admin'), payload: { decision: 'upheld' } });
  assert.deepEqual([twice.statusCode, twice.json().error.code], [409, 'DISPUTE_CLOSED']);
  assert.match(twice.json().error.message, /contestation/);
});

test('pages: list, invoice, print and CSV in both languages; the partner disputes a line from the page', async () => {
  const en = await t.app.inject({ method: 'GET', url: '/en/staff/billing/invoices', headers: h('staff-cra-partner') });
  assert.equal(en.statusCode, 200);
  assert.match(en.body, /Invoices to partners/);
  assert.ok(en.body.includes(`/en/staff/billing/invoices/${invoiceCra}`) && !en.body.includes(`/en/staff/billing/invoices/${invoiceEsdc}"`));
  const fr = await t.app.inject({ method: 'GET', url: `/fr/personnel/facturation/factures/${invoiceCra}`, headers: h('staff-cra-partner') });
  assert.equal(fr.statusCode, 200);
  assert.match(fr.body, /Facture 2026-\d{6}/);
  assert.match(fr.body, /29,00\s*\$/); // 2 × 7,50 $ + 14,00 $
  assert.match(fr.body, /Contester cette ligne/);
  const print = await t.app.inject({ method: 'GET', url: `/en/staff/billing/invoices/${invoiceCra}/print`, headers: h('staff-cra-partner') });
  assert.equal(print.statusCode, 200);
  assert.match(print.body, /govuk-!-display-none-print/);
  const csv = await t.app.inject({ method: 'GET', url: `/fr/personnel/facturation/factures/${invoiceCra}/csv`, headers: h('staff-cra-partner') });
  assert.equal(csv.statusCode, 200);
  assert.match(csv.headers['content-type'] as string, /text\/csv/);
  const rows = csv.body.replace(/^\ufeff/, '').trim().split('\r\n');
  assert.match(rows[0], /^facture,partenaire,/);
  assert.equal(rows.at(-1)!.split(',').at(-1), '2900');
  const otherPage = await t.app.inject({ method: 'GET', url: `/en/staff/billing/invoices/${invoiceEsdc}`, headers: h('staff-cra-partner') });
  assert.equal(otherPage.statusCode, 404);
  const otherCsv = await t.app.inject({ method: 'GET', url: `/en/staff/billing/invoices/${invoiceEsdc}/csv`, headers: h('staff-cra-partner') });
  assert.equal(otherCsv.statusCode, 404);
  const anon = await t.app.inject({ method: 'GET', url: '/en/staff/billing/invoices' });
  assert.equal(anon.statusCode, 303);
  // Dispute from the page (no JavaScript): an empty reason shows the form again with the error, a reason is recorded.
  const detail = (await t.app.inject({ method: 'GET', url: `/api/v1/billing/invoices/${invoiceCra}`, headers: h('staff-cra-partner') })).json();
  const line = detail.lines.find((l: any) => !detail.disputes.some((d: any) => d.line_id === l.id && d.status === 'open'));
  const cookie = cookies['staff-cra-partner'];
  const url = `/en/staff/billing/invoices/${invoiceCra}/lines/${line.id}/dispute`;
  const empty = await t.app.inject({ method: 'POST', url, headers: { cookie }, payload: { _csrf: csrfFrom(cookie), reason: '' } });
  assert.equal(empty.statusCode, 400);
  assert.match(empty.body, /govuk-error-summary/);
  const ok = await t.app.inject({ method: 'POST', url, headers: { cookie }, payload: { _csrf: csrfFrom(cookie), reason: 'The counter visit was a referral' } });
  assert.equal(ok.statusCode, 303);
  const after = await t.app.inject({ method: 'GET', url: ok.headers.location as string, headers: { cookie } });
  assert.match(after.body, /Your dispute was recorded/);
  assert.match(after.body, /The counter visit was a referral/);
});
