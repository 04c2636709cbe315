/**
 * "Every creating API call takes an Idempotency-Key" (the brief's money and nothing-lost rules), checked over every
 * registered route: each POST under /api/ either declares how it takes a key (`config.idempotent`: the plumbing's
 * hook, or 'command' when the handler claims the key in its command's own transaction), or is listed below with the
 * reason it needs none. A new POST route fails this test until its author chooses. Then the hook is exercised on
 * routes of three capabilities (clients, counters, cases) beyond POST /api/v1/cases (test/ownership.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registeredRoutes } from '../src/http/app';
import { DEMO_OFFICE, ensureDemoCounters } from '../src/counters/demo';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { clientCookie, createTestClient } from './support/clients';

/** POST routes that create nothing a retry could double, or cannot take a key, each with its reason. */
export const NO_KEY: Record<string, string> = {
  // answers only: nothing is written
  'POST /api/v1/catalogue.jsonld': 'validates a posted document; writes nothing',
  'POST /api/v1/cases/guarantee-check': 'computes whether a guarantee applies; writes nothing',
  // a state change of one existing record: repeating it finds the record already there (409 or the same state)
  'POST /api/v1/staff/services/:id/submit': 'moves one draft to review; a repeat answers 409',
  'POST /api/v1/me/consents/:consentId/withdraw': 'withdraws one consent; a repeat finds it withdrawn',
  'POST /api/v1/partners/:org/notices/:id/ack': 'acknowledges one notice; a repeat is a no-op',
  'POST /api/v1/partners/:org/notices/:id/reject': 'rejects one notice; a repeat is a no-op',
  'POST /api/v1/cases/:id/status': 'sets one case’s status; a repeat sets the same status',
  'POST /api/v1/cases/:id/assign': 'assigns one case; a repeat assigns the same person',
  'POST /api/v1/cases/:id/referrals/:referralId/answer': 'answers one referral once; a repeat answers 409',
  'POST /api/v1/cases/questions/:id/answer': 'answers one question once; a repeat answers 409',
  'POST /api/v1/cases/questions/:id/decline': 'declines one question once; a repeat answers 409',
  'POST /api/v1/cases/agent/redeem': 'redeems a single-use code: a repeat is refused',
  'POST /api/v1/offices/:officeId/counters/:counterId/open': 'opens one counter; a repeat finds it open',
  'POST /api/v1/offices/:officeId/counters/:counterId/close': 'closes one counter; a repeat finds it closed',
  'POST /api/v1/offices/:officeId/counters/:counterId/call-next': 'calls the next ticket to a counter that serves one at a time: a repeat answers the ticket already called',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/serve': 'a ticket’s state change; a repeat answers 409',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/recall': 'recalls the same ticket again (what the agent asked for)',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/hold': 'a ticket’s state change; a repeat answers 409',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/no-show': 'a ticket’s state change; a repeat answers 409',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/complete': 'a ticket’s state change; a repeat answers 409',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/transfer': 'a ticket’s state change; a repeat answers 409',
  'POST /api/v1/offices/:officeId/tickets/:ticketId/abandon': 'a ticket’s state change; a repeat answers 409',
  'POST /api/v1/appointments/:reference/cancel': 'cancels one appointment; a repeat finds it cancelled',
  'POST /api/v1/appointments/:reference/reschedule': 'moves one appointment to the slot named in the body; a repeat names the same slot',
  'POST /api/v1/offices/:officeId/appointments/:reference/check-in': 'checks one appointment in once; a repeat answers its ticket',
  'POST /api/v1/agreements/:id/submit': 'an agreement version’s state change; a repeat answers 409',
  'POST /api/v1/agreements/:id/recall': 'an agreement version’s state change; a repeat answers 409',
  'POST /api/v1/agreements/:id/approve': 'approving twice answers 409 (issue 17)',
  'POST /api/v1/agreements/:id/send-back': 'an agreement version’s state change; a repeat answers 409',
  'POST /api/v1/agreements/:id/accept': 'an agreement version’s state change; a repeat answers 409',
  'POST /api/v1/agreements/:id/discard-amendment': 'discards the one open amendment; a repeat finds none',
  'POST /api/v1/agreements/:id/terminate': 'ends one agreement; a repeat answers 409',
  'POST /api/v1/proposals/:id/score': 'sets one proposal’s scores to the body’s values',
  'POST /api/v1/proposals/:id/decision': 'decides one proposal once; a repeat answers 409',
  'POST /api/v1/proposals/:id/reevaluation': 'asks once per proposal; a repeat answers 409',
  'POST /api/v1/billing/disputes/:id/resolve': 'resolves one dispute once; a repeat answers 409',
  'POST /api/v1/billing/subscriptions/:businessId/cancel': 'cancels one subscription; a repeat finds it cancelled',
  // their own natural key
  'POST /api/v1/billing/runs': 'a run is keyed by its agreement and period: re-running bills nothing twice (issue 17)',
  'POST /api/v1/payments/webhooks/:provider': 'the provider’s event id is the key: a repeated event is applied once',
  'POST /api/v1/performance/survey': 'the survey token is single-use: a repeat is refused',
  // the answer holds a secret shown once: a stored answer would keep the secret; a retry makes a new one and the
  // unused one can be revoked
  'POST /api/v1/partner-api-keys': 'answers a secret shown once, which must not be stored for replay',
  'POST /api/v1/cases/open311-keys': 'answers a secret shown once, which must not be stored for replay',
  'POST /api/v1/notice-subscriptions': 'answers the webhook signing secret once, which must not be stored for replay',
  'POST /api/v1/cases/access-codes': 'answers a one-time code, which must not be stored for replay; it expires in 10 minutes',
  // no caller, or a body the hook cannot compare
  'POST /api/v1/offices/:officeId/appointments': 'anonymous booking: no caller to scope a key to (limited per caller and per address instead)',
  'POST /api/v1/cases/:id/documents': 'multipart upload: the body cannot be compared before it is read (left for later)',
};

describe('Idempotency-Key on every creating call', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
    await ensureDemoCounters(t.db);
  });
  after(async () => {
    await t?.close();
  });

  it('every POST under /api/ declares how it takes a key, or why it needs none', () => {
    const posts = registeredRoutes(t.app).filter((r) => r.method === 'POST' && r.url.startsWith('/api/'));
    assert.ok(posts.length > 50, `${posts.length} POST routes`);
    const undecided = posts.filter((r) => !r.idempotent && !NO_KEY[`${r.method} ${r.url}`]).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(undecided, [], 'POST routes that neither take an Idempotency-Key nor say why not');
    const both = posts.filter((r) => r.idempotent && NO_KEY[`${r.method} ${r.url}`]).map((r) => r.url);
    assert.deepEqual(both, [], 'listed as needing no key, yet declared');
    const gone = Object.keys(NO_KEY).filter((k) => !posts.some((r) => `${r.method} ${r.url}` === k));
    assert.deepEqual(gone, [], 'listed routes that no longer exist');
  });

  const send = (cookie: string, url: string, payload: unknown, key?: string) =>
    t.app.inject({ method: 'POST', url, payload: payload as object, headers: { cookie, 'x-csrf-token': csrfFrom(cookie), ...(key ? { 'idempotency-key': key } : {}) } });

  it('a client’s new address: a retry with the key answers the first result and writes no second address', async () => {
    const owner = await createTestClient(t.db);
    const cookie = await clientCookie(t.app, t.db, owner);
    const count = async () => (await t.db.selectFrom('client_addresses').select('id').where('client_id', '=', owner).execute()).length;
    const before = await count();
    const body = { line1: '50 Rideau Street', city: 'Ottawa', province: 'ON', postalCode: 'K1N 9J7' };
    const first = await send(cookie, '/api/v1/me/addresses', body, 'move-1');
    assert.ok(first.statusCode < 300, first.body);
    const again = await send(cookie, '/api/v1/me/addresses', body, 'move-1');
    assert.equal(again.statusCode, first.statusCode);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    assert.equal(await count(), before + 1);
    const other = await send(cookie, '/api/v1/me/addresses', { ...body, line1: '1 Elgin Street' }, 'move-1');
    assert.equal(other.statusCode, 409);
    assert.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('a walk-in ticket: one ticket per key, per caller', async () => {
    const agent = await staffCookie(t.app, 'staff-agent');
    const url = `/api/v1/offices/${DEMO_OFFICE}/tickets`;
    const body = { services: ['demo-dog-licence'], language: 'en' };
    const first = await send(agent, url, body, 'walk-in-7');
    assert.equal(first.statusCode, 201, first.body);
    const again = await send(agent, url, body, 'walk-in-7');
    assert.equal(again.statusCode, 201);
    assert.equal(again.json().id, first.json().id, 'the same ticket');
    const fresh = await send(agent, url, body, 'walk-in-8');
    assert.notEqual(fresh.json().id, first.json().id, 'another key, another ticket');
    // another staff member's key of the same name is theirs
    const other = await send(await staffCookie(t.app, 'staff-admin'), url, body, 'walk-in-7');
    assert.ok(other.statusCode === 201 || other.statusCode === 403, other.body);
    if (other.statusCode === 201) assert.notEqual(other.json().id, first.json().id);
  });
});
