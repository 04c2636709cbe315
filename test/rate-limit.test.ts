/**
 * Rate limits (issue 14): named policies on sign-in, the one-time code, booking, tickets, search and partner feeds;
 * a translated 429 RATE_LIMITED (JSON for the API, the bilingual error page for pages) with Retry-After; counters
 * in the database, so that two server processes (here two apps on one database) count the same hits; at most
 * `mailPerAddress` booking e-mails to one address, none carrying the name typed in the form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/http/app';
import { capabilities } from '../src/capabilities';
import { loadConfig, trustProxySetting } from '../src/config';
import { hit, policyEnvName, rateLimitSettings } from '../src/http/rate-limit';
import { createApiKey } from '../src/notices/service';
import { DEMO_OFFICE, ensureDemoCounters } from '../src/counters/demo';
import { localParts } from '../src/counters/time';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from './support/app';
import { startSmtp, type TestSmtp } from './support/smtp';
import { waitFor } from './support/wait';

const LIMITS = {
  GUICHET_RATE_LIMIT: 'on',
  GUICHET_RATE_LIMIT_SEARCH: '3/60',
  GUICHET_RATE_LIMIT_SIGN_IN: '2/60',
  GUICHET_RATE_LIMIT_BOOKING: '3/3600',
  GUICHET_RATE_LIMIT_MAIL_PER_ADDRESS: '2/86400',
  GUICHET_RATE_LIMIT_PARTNER_FEED: '2/60',
  GUICHET_RATE_LIMIT_ACCESS_CODE: '2/600',
  GUICHET_RATE_LIMIT_TICKET: '2/600',
  // app.inject() connects from 127.0.0.1: trusting the loopback proxy lets each test be its own caller
  GUICHET_TRUST_PROXY: 'loopback',
};

describe('rate limits', () => {
  let t: TestApp;
  let second: App;
  let smtp: TestSmtp;
  before(async () => {
    smtp = await startSmtp();
    process.env.SMTP_URL = smtp.url;
    t = await createTestApp({ catalogue: true, env: LIMITS });
    // a second server process: its own memory, the same database
    second = await buildApp({ config: t.config, database: t.database, logger: false, capabilities });
    await second.ready();
    await ensureDemoCounters(t.db);
  });
  after(async () => {
    await second?.close();
    await t?.close();
    await smtp?.close();
    delete process.env.SMTP_URL;
  });

  it('settings: on by default, off by default in tests, per policy "<max>/<seconds>", malformed values stop the start', () => {
    assert.equal(rateLimitSettings({}, 'production').enabled, true);
    assert.equal(rateLimitSettings({}, 'test').enabled, false);
    assert.equal(rateLimitSettings({ GUICHET_RATE_LIMIT: 'off' }, 'production').enabled, false);
    assert.deepEqual(rateLimitSettings({ GUICHET_RATE_LIMIT_SIGN_IN: '7/30' }, 'production').policies.signIn, { max: 7, windowS: 30 });
    assert.equal(policyEnvName('mailPerAddress'), 'GUICHET_RATE_LIMIT_MAIL_PER_ADDRESS');
    assert.throws(() => loadConfig({ GUICHET_RATE_LIMIT_SEARCH: '10 per minute' }), /GUICHET_RATE_LIMIT_SEARCH/);
    assert.throws(() => loadConfig({ GUICHET_RATE_LIMIT: 'maybe' }), /GUICHET_RATE_LIMIT/);
  });

  it('a client cannot choose the address its limit counts: X-Forwarded-For is read only from a trusted proxy', async () => {
    assert.equal(trustProxySetting(undefined), false);
    assert.equal(trustProxySetting('2'), 2);
    assert.equal(trustProxySetting('loopback, 10.0.0.0/8'), 'loopback,10.0.0.0/8');
    assert.throws(() => loadConfig({ GUICHET_TRUST_PROXY: 'everyone' }), /GUICHET_TRUST_PROXY/);
    // without the setting, the socket's address counts, whatever the header says
    const plain = await buildApp({ config: { ...t.config, trustProxy: false }, database: t.database, logger: false, capabilities });
    await plain.ready();
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await plain.inject({ method: 'GET', url: '/api/v1/services?q=passport', remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': `203.0.113.${100 + i}` } })).statusCode);
      assert.deepEqual(codes, [200, 200, 200, 429], 'four different forwarded addresses from one socket are one caller');
    } finally {
      await plain.close();
    }
  });

  it('search: the limit is shared by two server processes, answers 429 RATE_LIMITED in the caller’s language, API and page', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    const a = await t.app.inject({ method: 'GET', url: '/api/v1/services?q=passport', headers });
    const b = await second.inject({ method: 'GET', url: '/api/v1/services?q=passport', headers });
    const c = await t.app.inject({ method: 'GET', url: '/en/search?q=passport', headers: { ...headers, accept: 'text/html' } });
    assert.deepEqual([a.statusCode, b.statusCode, c.statusCode], [200, 200, 200]);
    const over = await second.inject({ method: 'GET', url: '/api/v1/services?q=passport', headers });
    assert.equal(over.statusCode, 429);
    assert.equal(over.json().error.code, 'RATE_LIMITED');
    assert.ok(Number(over.headers['retry-after']) > 0 && Number(over.headers['retry-after']) <= 60, String(over.headers['retry-after']));
    const fr = await t.app.inject({ method: 'GET', url: '/api/v1/services?q=passport', headers: { ...headers, 'accept-language': 'fr-CA' } });
    assert.equal(fr.json().error.code, 'RATE_LIMITED');
    assert.match(fr.json().error.message, /Trop de requêtes/);
    const page = await t.app.inject({ method: 'GET', url: '/fr/recherche?q=passeport', headers: { ...headers, accept: 'text/html' } });
    assert.equal(page.statusCode, 429);
    assert.match(page.body, /<html[^>]*lang="fr"/);
    assert.match(page.body, /Trop de requêtes/);
    // another caller is not affected
    const other = await t.app.inject({ method: 'GET', url: '/api/v1/services?q=passport', headers: { 'x-forwarded-for': '203.0.113.8' } });
    assert.equal(other.statusCode, 200);
    // routes without a policy are not limited
    for (let i = 0; i < 5; i++) assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/services/demo-birth-certificate', headers })).statusCode < 429, true);
  });

  it('sign-in (client and staff share the policy), the one-time code and partner feeds', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.20', 'content-type': 'application/x-www-form-urlencoded' };
    const codes: number[] = [];
    for (const url of ['/en/sign-in', '/fr/personnel/se-connecter', '/en/sign-in']) {
      codes.push((await t.app.inject({ method: 'POST', url, headers, payload: '' })).statusCode);
    }
    assert.ok(codes[0] !== 429 && codes[1] !== 429, codes.join());
    assert.equal(codes[2], 429);

    const agent = await staffCookie(t.app, 'staff-agent');
    const redeem = () => t.app.inject({ method: 'POST', url: '/api/v1/cases/agent/redeem', headers: { cookie: agent, 'x-csrf-token': csrfFrom(agent), 'content-type': 'application/json' }, payload: { code: '00000000' } });
    const r1 = await redeem();
    const r2 = await redeem();
    const r3 = await redeem();
    assert.deepEqual([r1.statusCode, r2.statusCode], [400, 400], r1.body);
    assert.equal(r3.statusCode, 429);
    assert.equal(r3.json().error.code, 'RATE_LIMITED');

    const { key } = await createApiKey(t.db, 'ottawa', 'rate-limit', null);
    const feed = (app: App) => app.inject({ method: 'GET', url: '/api/v1/partners/ottawa/notices', headers: { authorization: `Bearer ${key}` } });
    assert.equal((await feed(t.app)).statusCode, 200);
    assert.equal((await feed(second)).statusCode, 200);
    assert.equal((await feed(t.app)).statusCode, 429);
  });

  it('anonymous booking: limited per caller; e-mails to one address limited; no free text from the form in them', async () => {
    const office = await t.db.selectFrom('offices').select('timezone').where('id', '=', DEMO_OFFICE).executeTakeFirstOrThrow();
    let d = new Date(Date.now() + 2 * 86400_000);
    while ([0, 6].includes(localParts(d, office.timezone).weekday)) d = new Date(d.getTime() + 86400_000);
    const date = localParts(d, office.timezone).date;
    const slots = (await t.app.inject({ method: 'GET', url: `/api/v1/offices/${DEMO_OFFICE}/slots?serviceId=demo-dog-licence&date=${date}` })).json().slots;
    assert.ok(slots.length >= 4);
    const victim = 'victim@example.org';
    const spam = 'WIN A PRIZE at https://evil.example now';
    const headers = { 'x-forwarded-for': '203.0.113.30', 'content-type': 'application/json' };
    const booked: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/offices/${DEMO_OFFICE}/appointments`, headers, payload: { serviceId: 'demo-dog-licence', startsAt: slots[i].startsAt, name: spam, email: victim, language: 'en' } });
      booked.push(res.statusCode);
      if (i === 3) assert.equal(res.json().error.code, 'RATE_LIMITED');
    }
    assert.deepEqual(booked, [201, 201, 201, 429]);
    await waitFor('two e-mails to the address', async () => smtp.inbox.filter((m) => m.to.includes(victim)).length >= 2, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const mails = smtp.inbox.filter((m) => m.to.includes(victim));
    assert.equal(mails.length, 2, 'the third booking’s e-mail is not sent');
    for (const m of mails) {
      assert.ok(!m.raw.includes('WIN A PRIZE') && !m.raw.includes('evil.example'), m.raw.slice(0, 2000));
      assert.match(m.raw, /Hello,/);
    }
  });

  it('the store: one statement per hit, a new window once the old one ends', async () => {
    const k = `test:${Date.now()}`;
    assert.deepEqual((await hit(t.db, k, 200)).current, 1);
    assert.equal((await hit(t.db, k, 200)).current, 2);
    const third = await hit(t.db, k, 200);
    assert.equal(third.current, 3);
    assert.ok(third.ttl > 0 && third.ttl <= 200, String(third.ttl));
    await new Promise((r) => setTimeout(r, 250));
    assert.equal((await hit(t.db, k, 200)).current, 1);
  });
});
