/**
 * The staffing page starts from the office's own history (arrivalProfile in stats.ts): visits per hour of the day,
 * averaged over the days of the last 28 that had visits, and the mean service time; example figures when there is
 * no history; the figures a manager enters win.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, staffCookie, type TestApp } from '../../test/support/app';
import { DEMO_OFFICE } from './demo';
import { arrivalProfile } from './stats';
import { localDate, zonedTime } from './time';

const OFFICE = DEMO_OFFICE;
const EN = `/en/staff/offices/${OFFICE}/staffing`;
const FR = `/fr/personnel/bureaux/${OFFICE}/effectifs`;

describe('counters: staffing from the office history', () => {
  let t: TestApp;
  let agent: string;
  let tz: string;
  const daysAgo = (n: number) => localDate(new Date(Date.now() - n * 86400_000), tz);
  /** One visit at the office (or another), queued at a local date and time. */
  const visit = async (date: string, hhmm: string, outcome: string, serviceSeconds: number | null, office = OFFICE) =>
    sql`insert into ticket_visits (ticket_id, office_id, service_id, org_id, queued_at, outcome, service_seconds)
        select id, ${office}, 'demo-health-card', 'on-mto', ${zonedTime(date, hhmm, tz)}, ${outcome}, ${serviceSeconds}::float8 from tickets where number = 'H001'`.execute(t.db);

  before(async () => {
    t = await createTestApp({ catalogue: true });
    agent = await staffCookie(t.app, 'staff-agent');
    tz = (await t.db.selectFrom('offices').select('timezone').where('id', '=', OFFICE).executeTakeFirstOrThrow()).timezone;
  });
  after(async () => {
    await t?.close();
  });

  it('without visits in the last 28 days: example figures, said so', async () => {
    assert.equal(await arrivalProfile(t.db, OFFICE), null);
    const page = await t.app.inject({ url: EN, headers: { cookie: agent } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="staffing-source">This office has no visits recorded/);
    assert.match(page.body, /id="f-arrivals" name="arrivals" type="text" aria-describedby="arrivals-hint" value="20, 35, 40, 30, 25, 35, 30, 15"/);
  });

  it('with history: the mean visits per hour over the days that had visits, from the first to the last hour, and the mean service time', async () => {
    await sql`
      insert into tickets (office_id, day, seq, number, service_id, org_id, language, priority, status, queued_at, waiting_since, arrived_at, channel)
      select ${OFFICE}, current_date - 40, 1, 'H001', id, owner_org_id, 'en', 'none', 'done', now(), now(), now(), 'kiosk' from services where id = 'demo-health-card'`.execute(t.db);
    const d3 = daysAgo(3);
    const d5 = daysAgo(5);
    for (const hhmm of ['09:05', '09:20', '09:40', '09:55']) await visit(d3, hhmm, 'served', 300);
    for (const hhmm of ['10:10', '10:50']) await visit(d3, hhmm, 'served', 900);
    for (const hhmm of ['09:10', '09:30']) await visit(d5, hhmm, 'no_show', null); // visits all the same; no service time
    await visit(d5, '11:15', 'served', 600);
    // outside the window or the office: today (not over), 40 days ago, another office
    await visit(daysAgo(0), '09:00', 'served', 6000);
    await visit(daysAgo(40), '08:00', 'served', 6000);
    await visit(d3, '07:00', 'served', 6000, 'another-office');

    const p = await arrivalProfile(t.db, OFFICE);
    assert.deepEqual(p, { days: 28, daysWithVisits: 2, visits: 9, opensHour: 9, arrivalsPerHour: [3, 1, 0.5], meanServiceMin: 8.6 }); // (4×5 + 2×15 + 10) / 7 served = 8.57 min

    const page = await t.app.inject({ url: FR, headers: { cookie: agent } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /id="staffing-source">Rempli d’après les 28 derniers jours de ce bureau : 9 visites sur 2 jours/);
    assert.match(page.body, /name="arrivals" type="text" aria-describedby="arrivals-hint" value="3, 1, 0.5"/);
    assert.match(page.body, /id="f-opens" name="opens" type="text" inputmode="numeric" value="09"/);
    assert.match(page.body, /id="f-meanServiceMin" name="meanServiceMin" type="text" inputmode="decimal" value="8.6"/);
    assert.equal((page.body.match(/<tr class="govuk-table__row">\s*<th scope="row" class="govuk-table__header">(\d\d:00)<\/th>/g) ?? []).length, 3, 'one row per hour, 09:00 to 11:00');
    assert.match(page.body, /<th scope="row" class="govuk-table__header">09:00<\/th>/);

    // figures the manager enters win, and no note about where they came from
    const entered = await t.app.inject({ url: `${EN}?arrivals=40,80&opens=08&meanServiceMin=6`, headers: { cookie: agent } });
    assert.doesNotMatch(entered.body, /id="staffing-source"/);
    assert.match(entered.body, /value="40,80"/);
    assert.match(entered.body, /<th scope="row" class="govuk-table__header">08:00<\/th>/);
  });
});
