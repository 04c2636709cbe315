/**
 * Performance end to end on one database: contacts counted from the other capabilities' tables (once, late ones too),
 * indicators, the survey (single use, anonymous, scrubbed), e-mailed invitations over real SMTP, who sees what, and
 * partners' own volumes (checked whole).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../test/support/app';
import { startSmtp, type TestSmtp } from '../../test/support/smtp';
import { makeClient, makeStaff } from '../cases/test/helpers';
import { createApiKey } from '../notices/service';
import { createMailer } from '../mail/mailer';
import { ingestAll } from './ingest';
import { indicators, sideBySide, sideFromCounts, type CountRow } from './indicators';
import { recordContactEvent, rollupPending } from './events';
import { dashboardData, periodOf, wholeMonths } from './routes';
import { mintToken, queueSurveyMails, scrubComment, sendSurveyMails } from './survey';
import { buildMonthlyReports, previousMonth } from './reports';

describe('performance: every contact counted once, surveys, reports, volumes', () => {
  let t: TestApp;
  let smtp: TestSmtp;
  let officeId: string;
  let serviceA: string; // owned by orgA, offered at the office
  let orgA: string;
  let serviceB: string; // owned by another organisation
  let orgB: string;
  let partnerA: string, partnerB: string, manager: string;
  const csrf = (cookie: string) => /guichet_csrf=([^;]+)/.exec(cookie)![1];

  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ catalogue: true });
    const r = await sql<{ office_id: string; service_id: string; owner_org_id: string }>`
      select os.office_id, os.service_id, s.owner_org_id from office_services os join services s on s.id = os.service_id
      where s.status = 'published' order by os.office_id, os.service_id limit 1`.execute(t.db);
    ({ office_id: officeId, service_id: serviceA, owner_org_id: orgA } = r.rows[0]);
    const b = await sql<{ id: string; owner_org_id: string }>`select id, owner_org_id from services where status = 'published' and owner_org_id <> ${orgA} order by id limit 1`.execute(t.db);
    ({ id: serviceB, owner_org_id: orgB } = b.rows[0]);
    partnerA = await makeStaff(t, 'perf-partner-a', orgA, ['partner']);
    partnerB = await makeStaff(t, 'perf-partner-b', orgB, ['partner']);
    manager = await makeStaff(t, 'perf-manager', 'guichet', ['manager']);
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  let seq = 0;
  async function visit(o: { outcome?: string; result?: string | null; wait: number; serve?: number; doneAt?: Date; email?: string | null; serviceId?: string }) {
    const done = o.doneAt ?? new Date(Date.now() - 60_000);
    const arrived = new Date(done.getTime() - (o.wait + (o.serve ?? 0)) * 1000);
    const ticketId = crypto.randomUUID();
    seq++;
    const svc = o.serviceId ?? serviceA;
    await sql`insert into tickets (id, office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel, email, done_at)
      values (${ticketId}, ${officeId}, ${done.toISOString().slice(0, 10)}::date, ${1000 + seq}, ${'P' + seq}, ${svc}, (select owner_org_id from services where id = ${svc}), 'en', 'none', 'done',
              ${arrived}, ${arrived}, ${arrived}, 'kiosk', ${o.email ?? null}, ${done})`.execute(t.db);
    const called = new Date(arrived.getTime() + o.wait * 1000);
    const id = crypto.randomUUID();
    await sql`insert into ticket_visits (id, ticket_id, office_id, service_id, org_id, queued_at, called_at, served_at, done_at, outcome, result, wait_seconds, service_seconds)
      values (${id}, ${ticketId}, ${officeId}, ${svc}, (select owner_org_id from services where id = ${svc}), ${arrived}, ${called}, ${called}, ${done},
              ${o.outcome ?? 'served'}, ${o.result ?? null}, ${o.wait}, ${o.serve ?? null})`.execute(t.db);
    return id;
  }
  async function decidedCase(o: { channel: string; decision: string; days: number; dueInDays: number; email?: string | null }) {
    const client = await makeClient(t, { email: o.email === undefined ? null : o.email });
    const id = crypto.randomUUID();
    const submitted = new Date(Date.now() - o.days * 86400_000 - 3600_000);
    const due = new Date(submitted.getTime() + o.dueInDays * 86400_000).toISOString().slice(0, 10);
    await sql`insert into cases (id, reference, client_id, service_id, origin_channel, status, responsible_org_id, summary, decision, submitted_at, due_date, decided_at, created_by_kind, created_by_id)
      values (${id}, ${'PERF-' + id.slice(0, 8)}, ${client.id}, ${serviceA}, ${o.channel}, 'decided', ${orgA}, 'test', ${o.decision}, ${submitted}, ${due}::date, now(), 'client', ${client.id})`.execute(t.db);
    await sql`insert into case_status_history (case_id, from_status, to_status, actor_kind, actor_id) values (${id}, 'submitted', 'decided', 'staff', 'perf-partner-a')`.execute(t.db);
    return id;
  }
  const counts = async () => (await sql<{ n: number; s: number }>`select count(*)::int as n, coalesce(sum(events), 0)::int as s from perf_daily`.execute(t.db)).rows[0];

  it('counts counter visits and case outcomes once; a re-run adds nothing; a late row inside the look-back is still counted', async () => {
    await visit({ wait: 300, serve: 600, email: 'visitor@client.example' });
    await visit({ wait: 1500, serve: 300 });
    await visit({ outcome: 'no_show', wait: 900 });
    await visit({ wait: 120, serve: 60, result: 'Not eligible: income too high' });
    await decidedCase({ channel: 'web', decision: 'Approved', days: 3, dueInDays: 10, email: 'web@client.example' });
    await decidedCase({ channel: 'web', decision: 'Refused: not eligible', days: 20, dueInDays: 10 });
    const first = await ingestAll(t.db);
    assert.equal(first.bySource.counter_visit, 4);
    assert.equal(first.bySource.case_outcome, 2);
    const before = await sql`select * from perf_daily order by day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome`.execute(t.db);
    const again = await ingestAll(t.db);
    assert.equal(again.inserted, 0, 'a re-run counts nothing again');
    const after = await sql`select * from perf_daily order by day, service_id, owner_org_id, delivering_org_id, office_id, channel, outcome`.execute(t.db);
    assert.deepEqual(after.rows, before.rows);
    // A visit committed late with a time before the mark (within the 15-minute look-back).
    const mark = (await t.db.selectFrom('perf_cursors').select('mark_at').where('source', '=', 'counter_visit').executeTakeFirstOrThrow()).mark_at;
    await visit({ wait: 200, serve: 100, doneAt: new Date(mark.getTime() - 5 * 60_000) });
    const late = await ingestAll(t.db);
    assert.equal(late.bySource.counter_visit, 1);
    const c = await counts();
    assert.equal(c.s, 7);
  });

  it('indicators: completion (not eligible counts as completed, no-shows do not), take-up, waits within standard, decisions within standard', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const i = await indicators(t.db, { from: '2020-01-01', to: today, serviceId: serviceA });
    const counter = i.byChannel.find((c) => c.channel === 'counter')!;
    assert.equal(counter.counted.completed, 3);
    assert.equal(counter.counted.not_eligible, 1);
    assert.equal(counter.counted.abandoned, 1);
    const web = i.byChannel.find((c) => c.channel === 'web')!;
    assert.equal(web.counted.completed, 1);
    assert.equal(web.counted.not_eligible, 1);
    assert.equal(i.completed, 6);
    assert.equal(i.started, 7);
    assert.equal(i.completionRate, 6 / 7);
    assert.equal(i.standardsMeasured.counterWaits.total, 4); // served visits (the no-show has no wait standard)
    assert.equal(i.standardsMeasured.counterWaits.met, 3); // 300, 120, 200 s ≤ 15 min; 1500 s is not
    assert.equal(i.standardsMeasured.cases.total, 2);
    assert.equal(i.standardsMeasured.cases.met, 1);
    assert.ok(i.waits.p90! >= 900, `p90 wait ${i.waits.p90}`);
    assert.equal(i.revenueCents, null, 'revenue stays empty until payments lands');
    // take-up: web transactions over all (no partner volumes for this service in this period beyond the GC's)
    assert.equal(i.digitalTransactions, 2 + (i.byChannel.find((c) => c.channel === 'web')!.reported));
  });

  it('the GC inventory volumes are loaded as federal services’ 2023–24 figures', async () => {
    const r = await sql<{ n: number }>`select count(*)::int as n from perf_partner_volumes where source = 'gc-inventory' and period_start = '2023-04-01'`.execute(t.db);
    assert.ok(r.rows[0].n > 1000, `${r.rows[0].n} GC volume rows`);
  });

  it('e-mails a single-use survey link after a counter visit and a decided case; the link works once; forged and expired links get the same refusal', async () => {
    // a phone call about the approved case (its client has an e-mail address)
    const webCase = (await sql<{ id: string }>`select c.id from cases c where c.decision = 'Approved' and c.service_id = ${serviceA}`.execute(t.db)).rows[0].id;
    await sql`insert into case_interactions (case_id, channel, actor_kind, actor_id, org_id, outcome) values (${webCase}, 'phone', 'staff', 'perf-partner-a', ${orgA}, 'information_given')`.execute(t.db);
    assert.equal((await ingestAll(t.db)).bySource.case_interaction, 1);
    const queued = await queueSurveyMails(t.db);
    assert.equal(queued, 3); // the visit with an e-mail, the approved web case, the call about it
    const mailer = createMailer({ SMTP_URL: smtp.url, MAIL_FROM: 'guichet@test.example' });
    const sent = await sendSurveyMails(t.db, mailer, 'http://guichet.test');
    mailer.close();
    assert.equal(sent, 3);
    assert.ok(smtp.inbox.some((m) => m.to.includes('web@client.example') && /your call/.test(m.raw)));
    assert.ok(smtp.inbox.some((m) => m.to.includes('web@client.example') && /your request, now decided/.test(m.raw)));
    const mail = smtp.inbox.find((m) => m.to.includes('visitor@client.example'))!;
    const raw = mail.raw.replace(/=\r?\n/g, '');
    const token = /\/en\/performance\/survey\/(svy_[A-Za-z0-9_-]{43})/.exec(raw)![1];
    assert.equal((await t.db.selectFrom('perf_survey_mails').select('to_address').where('status', '=', 'sent').execute()).every((m) => m.to_address === ''), true, 'addresses are not kept');
    const page = await t.app.inject({ url: `/en/performance/survey/${token}` });
    assert.equal(page.statusCode, 200);
    const cookie = `guichet_csrf=${'c'.repeat(32)}`;
    const answer = (tok: string, score: string, comment = '') => t.app.inject({
      method: 'POST', url: '/en/performance/survey', headers: { cookie, accept: 'text/html' },
      payload: { _csrf: 'c'.repeat(32), token: tok, score, comment },
    });
    const ok = await answer(token, '5', 'Great! Write to me at jane.doe@mail.example or 613-555-0199, SIN 046 454 286, file 12345678.');
    assert.equal(ok.statusCode, 200, ok.body.slice(0, 300));
    const reused = await answer(token, '4');
    const forged = await answer('svy_' + 'A'.repeat(43), '4');
    const expiredToken = (await mintToken(t.db, { serviceId: serviceA, channel: 'web' }))!;
    await sql`update perf_survey_tokens set expires_at = now() - interval '1 second' where used_at is null`.execute(t.db);
    const expired = await answer(expiredToken, '4');
    for (const r of [reused, forged, expired]) {
      assert.equal(r.statusCode, 410);
      assert.match(r.body, /This survey link cannot be used/);
      assert.doesNotMatch(r.body, /survey-offer-link/, 'no fresh survey offered on a spent link');
    }
    const norm = (b: string) => b.replace(/nonce="[^"]*"/g, '').replace(/nonce-[^'"]+/g, '');
    assert.equal(norm(reused.body), norm(forged.body), 'reused and forged look the same');
    assert.equal(norm(expired.body), norm(forged.body), 'expired and forged look the same');
    const stored = await t.db.selectFrom('perf_survey_responses').selectAll().execute();
    assert.equal(stored.length, 1);
    assert.equal(stored[0].score, 5);
    assert.equal(stored[0].channel, 'counter');
    assert.equal(stored[0].org_id, orgA);
    assert.doesNotMatch(stored[0].comment!, /jane|613|046|12345678/);
    assert.equal(Object.keys(stored[0]).some((k) => /name|client|token|event/.test(k)), false, 'no name, client, token or event column');
  });

  it('a web journey offers the survey (any end); a missing score is a translated error that keeps the token', async () => {
    const page = await t.app.inject({ url: `/fr/rendement/avis?service=${serviceA}&end=not_eligible` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Dites-nous comment cela s’est passé/);
    const token = /name="token" value="(svy_[^"]+)"/.exec(page.body)![1];
    const cookie = `guichet_csrf=${'d'.repeat(32)}`;
    const bad = await t.app.inject({ method: 'POST', url: '/fr/rendement/sondage', headers: { cookie }, payload: { _csrf: 'd'.repeat(32), token, comment: 'x' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Choisissez une note/);
    assert.match(bad.body, new RegExp(token));
    const good = await t.app.inject({ method: 'POST', url: '/fr/rendement/sondage', headers: { cookie }, payload: { _csrf: 'd'.repeat(32), token, score: '2', comment: 'Trop long, appelez-moi au (514) 555-0123' } });
    assert.equal(good.statusCode, 200);
    const r = await t.db.selectFrom('perf_survey_responses').select(['comment', 'channel']).where('lang', '=', 'fr').executeTakeFirstOrThrow();
    assert.equal(r.channel, 'web');
    assert.equal(r.comment, 'Trop long, appelez-moi au […]');
  });

  it('error pages and a case page offer the survey too (GOV.UK: ask at every end, not only on success)', async () => {
    const missing = await t.app.inject({ url: '/en/performance/services/no-such-service', headers: { accept: 'text/html' } });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /id="survey-offer-link" href="\/en\/performance\/feedback\?channel=web&amp;end=error"/);
    const client = await makeClient(t, {});
    const caseId = crypto.randomUUID();
    await sql`insert into cases (id, reference, client_id, service_id, origin_channel, responsible_org_id, summary, created_by_kind, created_by_id)
      values (${caseId}, ${'PERF-' + caseId.slice(0, 8)}, ${client.id}, ${serviceA}, 'web', ${orgA}, 'offer', 'client', ${client.id})`.execute(t.db);
    const mine = await t.app.inject({ url: `/en/my-file/requests/${caseId}`, headers: { cookie: client.cookie } });
    assert.equal(mine.statusCode, 200, mine.body.slice(0, 300));
    assert.match(mine.body, new RegExp(`id="survey-offer-link" href="/en/performance/feedback\\?channel=web&amp;service=${serviceA}&amp;end=done"`));
  });

  it('scrubs e-mail addresses, phone numbers and identifiers', () => {
    assert.equal(scrubComment('mail me: a.b+c@x.co'), 'mail me: […]');
    assert.equal(scrubComment('call +1 416-555-0100 now'), 'call […] now');
    assert.equal(scrubComment('NAS 123-456-789'), 'NAS […]');
    assert.equal(scrubComment('postal K1A 0B1 ok'), 'postal […] ok');
    assert.equal(scrubComment('waited 45 minutes, 3 counters'), 'waited 45 minutes, 3 counters');
  });

  it('a partner reads its own comments and figures only; the public and other partners never see them', async () => {
    const own = await t.app.inject({ url: `/en/staff/performance/report?month=${new Date().toISOString().slice(0, 7)}`, headers: { cookie: partnerA } });
    assert.equal(own.statusCode, 200);
    assert.match(own.body, /Great! Write to me at \[…\]/);
    const other = await t.app.inject({ url: `/en/staff/performance/report?month=${new Date().toISOString().slice(0, 7)}`, headers: { cookie: partnerB } });
    assert.equal(other.statusCode, 200);
    assert.doesNotMatch(other.body, /Great! Write to me/);
    const asked = await t.app.inject({ url: `/en/staff/performance/report?org=${orgA}`, headers: { cookie: partnerB } });
    assert.equal(asked.statusCode, 404);
    const dash = await t.app.inject({ url: '/en/staff/performance', headers: { cookie: partnerA } });
    assert.equal(dash.statusCode, 403);
    const pub = await t.app.inject({ url: `/en/performance/services/${serviceA}?from=2020-01-01` });
    assert.equal(pub.statusCode, 200);
    assert.doesNotMatch(pub.body, /Great! Write to me/);
    const json = await t.app.inject({ url: `/api/v1/performance/services/${serviceA}?from=2020-01-01` });
    assert.equal(json.statusCode, 200);
    assert.doesNotMatch(json.body, /Great|comment/i);
    assert.equal(json.json().satisfaction.responses, null, 'fewer than 10 responses: suppressed');
    // The partner API with a partner key: own report only.
    const { key } = await createApiKey(t.db, orgB, 'perf test', null);
    const api = await t.app.inject({ url: '/api/v1/performance/partners/me/report', headers: { authorization: `Bearer ${key}` } });
    assert.equal(api.statusCode, 200);
    assert.equal(api.json().orgId, orgB);
    assert.doesNotMatch(api.body, /Great! Write to me/);
  });

  it("the managers' dashboard shows take-up, partners side by side and campaign markers; unit costs are editable", async () => {
    const c = csrf(manager);
    const camp = await t.app.inject({ method: 'POST', url: '/en/staff/performance/campaigns', headers: { cookie: manager }, payload: { _csrf: c, day: '2025-06-01', label_en: 'Go online week', label_fr: 'Semaine en ligne' } });
    assert.equal(camp.statusCode, 303);
    const cost = await t.app.inject({ method: 'POST', url: '/en/staff/performance/costs', headers: { cookie: manager }, payload: { _csrf: c, counter: '44', web: '0.30' } });
    assert.equal(cost.statusCode, 303);
    const dash = await t.app.inject({ url: '/fr/personnel/rendement?from=2020-01-01', headers: { cookie: manager } });
    assert.equal(dash.statusCode, 200);
    assert.match(dash.body, /id="ind-take-up"/);
    assert.match(dash.body, /Semaine en ligne/);
    assert.match(dash.body, /id="partners-table"/);
    assert.match(dash.body, /value="44"/);
    // no contact-centre source: calls answered within target is shown as not available, never as 0
    assert.match(dash.body, /Appels répondus dans le délai cible<\/dt><dd class="govuk-summary-list__value" id="ind-calls">Non disponible/);
  });

  it('partners report their own volumes: a CSV is checked whole, errors as file:line: reason, nothing partial stored', async () => {
    const { key } = await createApiKey(t.db, orgA, 'volumes', null);
    const post = (body: string, name = 'may.csv') => t.app.inject({ method: 'POST', url: `/api/v1/performance/volumes?file=${name}`, headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' }, payload: body });
    const before = (await sql<{ n: number }>`select count(*)::int as n from perf_partner_volumes where source <> 'gc-inventory'`.execute(t.db)).rows[0].n;
    const bad = await post([
      'service_id,channel,period_start,period_end,transactions',
      `${serviceA},phone,2025-05-01,2025-05-31,120`,
      `nope-service,phone,2025-05-01,2025-05-31,5`,
      `${serviceA},counter,2025-05-01,2025-05-31,-3`,
      `${serviceB},phone,2025-05-01,2025-05-31,7`,
      `${serviceA},phone,2025-05-15,2025-06-15,9`,
    ].join('\n'));
    assert.equal(bad.statusCode, 422);
    const details = bad.json().error.details.map((d: { message: string }) => d.message);
    assert.deepEqual(details, [
      'may.csv:3: unknown service nope-service',
      'may.csv:4: transactions cannot be negative',
      `may.csv:5: service ${serviceB} belongs to another organisation`,
      'may.csv:6: this period overlaps line 2 for the same service and channel',
    ]);
    assert.equal((await sql<{ n: number }>`select count(*)::int as n from perf_partner_volumes where source <> 'gc-inventory'`.execute(t.db)).rows[0].n, before, 'nothing stored');
    const good = await post(`service_id,channel,period_start,period_end,transactions\n${serviceA},phone,2025-05-01,2025-05-31,120\n`);
    assert.equal(good.statusCode, 201, good.body);
    assert.equal(good.json().stored, 1);
    const retry = await post(`service_id,channel,period_start,period_end,transactions\n${serviceA},phone,2025-05-01,2025-05-31,120\n`);
    assert.equal(retry.json().unchanged, 1, 'a retried upload stores nothing again');
    const overlap = await post(`service_id,channel,period_start,period_end,transactions\n${serviceA},phone,2025-05-20,2025-06-10,50\n`, 'june.csv');
    assert.equal(overlap.statusCode, 422);
    assert.match(overlap.json().error.details[0].message, /^june\.csv:2: this period overlaps one already stored/);
    const noKey = await t.app.inject({ method: 'POST', url: '/api/v1/performance/volumes', headers: { 'content-type': 'text/csv' }, payload: 'x' });
    assert.equal(noKey.statusCode, 401);
  });

  it('the monthly report is kept once per partner and month and e-mailed to its staff', async () => {
    const mailer = createMailer({ SMTP_URL: smtp.url, MAIL_FROM: 'guichet@test.example' });
    const month = new Date().toISOString().slice(0, 7);
    const done = await buildMonthlyReports(t.db, { mailer, baseUrl: 'http://guichet.test', month });
    const again = await buildMonthlyReports(t.db, { mailer, baseUrl: 'http://guichet.test', month });
    mailer.close();
    assert.ok(done.includes(orgA));
    assert.deepEqual(again, []);
    assert.ok(smtp.inbox.some((m) => m.to.includes('perf-partner-a@staff.example')));
    assert.ok(previousMonth() < month);
  });

  it('a period from the far past or the far future is whole months the dashboard reads (the route sweep found a 500)', async () => {
    const now = new Date('2026-12-02T12:00:00Z');
    assert.deepEqual(wholeMonths(periodOf({ from: '9999-12-31', to: '0001-01-01' }, now)), { from: '2025-12-01', to: '2026-12-31' });
    assert.deepEqual(wholeMonths(periodOf({ to: '9999-12-31' }, now)), { from: '9999-01-01', to: '9999-12-31' });
    assert.deepEqual(wholeMonths(periodOf({ from: '1899-12-31', to: '1900-01-01' }, now)), { from: '1899-01-01', to: '1900-01-31' });
    // a period that is not whole months is read as the months it touches
    assert.deepEqual(await dashboardData(t.db, { from: '2026-03-15', to: '2026-04-10' }), await dashboardData(t.db, { from: '2026-03-01', to: '2026-04-30' }));
    for (const q of ['from=9999-12-31&to=0001-01-01', 'to=9999-12-31', 'from=1900-01-01&to=1900-01-01']) {
      const api = await t.app.inject({ method: 'GET', url: `/api/v1/performance/dashboard?${q}`, headers: { cookie: manager } });
      assert.equal(api.statusCode, 200, `${q}: ${api.body.slice(0, 200)}`);
    }
  });

  it("the dashboard's combined statements give the same figures as each figure read on its own", async () => {
    // contacts on several channels, months and partners (besides the visits, cases, answers and volumes above)
    const channels = ['web', 'phone', 'counter', 'kiosk', 'mail'] as const;
    const outcomes = ['completed', 'not_eligible', 'abandoned', 'failed', 'information', 'referred'] as const;
    for (let i = 0; i < 60; i++) {
      await recordContactEvent(t.db, {
        source: 'dash-test', sourceId: String(i), kind: 'contact', channel: channels[i % channels.length], serviceId: i % 3 ? serviceA : serviceB,
        officeId: i % 2 ? officeId : null, outcome: outcomes[(i * 7) % outcomes.length], occurredAt: new Date(Date.now() - (i % 5) * 31 * 86400_000),
        waitSeconds: i % 4 ? 60 * i : null, handleSeconds: i % 3 ? 30 * i : null,
      });
    }
    await rollupPending(t.db, { settleMs: 60_000 });
    const f = wholeMonths(periodOf({ from: '2020-01-01' }));
    const d = await dashboardData(t.db, f);
    const byKey = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(d.ind, await indicators(t.db, f));
    assert.ok(d.ind.contacts >= 60 && d.ind.byChannel.some((c) => c.reported > 0) && d.ind.satisfaction.answered > 0 && d.ind.waits.p90 !== null);
    assert.deepEqual(byKey(d.channels), byKey(await sideBySide(t.db, f, 'channel')));
    assert.deepEqual(byKey(d.offices), byKey(await sideBySide(t.db, f, 'office_id', { names: 'offices' })));
    // partners: the monthly summary per partner = perf_monthly_owner (month × partner × channel × outcome) classified here
    const owners = await sql<CountRow & { owner_org_id: string }>`select owner_org_id, channel, outcome, sum(events)::int as events, sum(wait_n)::int as wait_n, sum(wait_sum)::int as wait_sum
      from perf_monthly_owner where month between ${f.from}::date and ${f.to}::date group by 1, 2, 3`.execute(t.db);
    assert.ok(d.partners.length >= 2);
    assert.deepEqual(byKey(d.partners.map(({ name_en: _e, name_fr: _f, ...p }) => p)), byKey(sideFromCounts(owners.rows, (r) => (r as typeof owners.rows[number]).owner_org_id)));
    assert.ok(d.partners.every((p) => p.key === '' || p.name_en), 'each partner has its name');
    // the trend: transactions per month and channel, straight from perf_daily
    const daily = await sql<{ month: string; channel: string; n: number }>`select to_char(day, 'YYYY-MM') as month, channel, sum(events)::int as n from perf_daily
      where day between ${f.from}::date and ${f.to}::date and outcome in ('completed', 'not_eligible') group by 1, 2`.execute(t.db);
    assert.equal(d.trend.length, new Set(daily.rows.map((r) => r.month)).size);
    for (const r of daily.rows) assert.equal(d.trend.find((m) => m.month === r.month)?.byChannel[r.channel], r.n);
    assert.deepEqual(d.campaigns.map((c) => c.day), ['2025-06-01']);
  });
});
