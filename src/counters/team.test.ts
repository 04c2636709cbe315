/**
 * The team page of a service centre (counters, agent profiles, shifts): bilingual, plain form posts with CSRF,
 * POST-redirect-GET, per-field errors with an error summary, managers only for changes, nothing half-written;
 * the JSON API keeps its answers (it calls the same functions).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, csrfFrom, staffCookie, type TestApp } from '../../test/support/app';
import { DEMO_OFFICE } from './demo';

const OFFICE = DEMO_OFFICE;
const EN = `/en/staff/offices/${OFFICE}/team`;
const FR = `/fr/personnel/bureaux/${OFFICE}/equipe`;

/** The instant of a local date and time in a zone, found without the code under test (offsets -12h..+14h). */
function expectedInstant(date: string, hhmm: string, tz: string): Date {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const [y, m, d] = date.split('-').map(Number);
  const [h, mi] = hhmm.split(':').map(Number);
  for (let off = -14 * 60; off <= 12 * 60; off += 15) {
    const at = new Date(Date.UTC(y, m - 1, d, h, mi) + off * 60_000);
    const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
    if (`${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` === `${date} ${hhmm}`) return at;
  }
  throw new Error(`no instant for ${date} ${hhmm} in ${tz}`);
}

describe('counters: team page', () => {
  let t: TestApp;
  let manager: string; // staff-reviewer: one-stop organisation, manager
  let agent: string; // staff-agent: one-stop organisation, agent (not a manager)
  let tz: string;

  const get = (cookie: string | null, url: string) => t.app.inject({ url, headers: { ...(cookie ? { cookie } : {}), accept: 'text/html' } });
  const post = (cookie: string, url: string, fields: Array<[string, string]>, csrf = true) =>
    t.app.inject({
      method: 'POST', url,
      payload: new URLSearchParams([...(csrf ? [['_csrf', csrfFrom(cookie)] as [string, string]] : []), ...fields]).toString(),
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
  const api = (cookie: string, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, payload: payload as any, headers: { cookie, 'x-csrf-token': csrfFrom(cookie) } });
  const counterCount = async () => (await t.db.selectFrom('counters').select('id').where('office_id', '=', OFFICE).execute()).length;
  const shiftCount = async () => (await t.db.selectFrom('agent_shifts').select('id').where('office_id', '=', OFFICE).execute()).length;
  const profile = (staffId: string) =>
    t.db.selectFrom('agent_profiles')
      .leftJoin('agent_loans', (j) => j.onRef('agent_loans.staff_id', '=', 'agent_profiles.staff_id').on('agent_loans.office_id', '=', OFFICE))
      .select(['agent_profiles.skills', 'agent_profiles.languages', 'agent_loans.lent_to_org_id']).where('agent_profiles.staff_id', '=', staffId).executeTakeFirst();
  const counterId = async (label: string) => (await t.db.selectFrom('counters').select('id').where('office_id', '=', OFFICE).where('label', '=', label).executeTakeFirstOrThrow()).id;
  /** An error summary linking to the field, the field marked in error, and the 400 status. */
  const assertFieldError = (res: { statusCode: number; body: string }, field: string) => {
    assert.equal(res.statusCode, 400, res.body.slice(0, 500));
    assert.match(res.body, /class="govuk-error-summary"/);
    assert.match(res.body, new RegExp(`<a href="#f-${field}">`));
    assert.match(res.body, new RegExp(`id="${field}-error" class="govuk-error-message"`));
  };

  before(async () => {
    t = await createTestApp({ catalogue: true });
    manager = await staffCookie(t.app, 'staff-reviewer');
    agent = await staffCookie(t.app, 'staff-agent');
    tz = (await t.db.selectFrom('offices').select('timezone').where('id', '=', OFFICE).executeTakeFirstOrThrow()).timezone;
  });
  after(async () => {
    await t?.close();
  });

  it('shows counters, agents and shifts to office staff in both languages, without forms for non-managers', async () => {
    const en = await get(agent, EN);
    assert.equal(en.statusCode, 200, en.body.slice(0, 300));
    assert.match(en.body, /<h1 class="govuk-heading-l">Team and counters<\/h1>/);
    assert.match(en.body, /id="team-counters"/);
    assert.match(en.body, /Alex Agent/);
    assert.match(en.body, /Olivia Editor \(Ottawa\)/);
    assert.match(en.body, /id="team-shifts"/, 'demo shifts of the coming days are listed');
    assert.match(en.body, /Only managers can change/);
    assert.doesNotMatch(en.body, /<form method="post"/);
    assert.doesNotMatch(en.body, /id="change-staff-agent"/);
    const fr = await get(agent, FR);
    assert.equal(fr.statusCode, 200);
    assert.match(fr.body, /<h1 class="govuk-heading-l">Équipe et comptoirs<\/h1>/);
    assert.match(fr.body, /Partagé/);
    assert.match(fr.body, /Quarts des 7 prochains jours/);
    // linked from the other pages of the office
    const reception = await get(agent, `/fr/personnel/bureaux/${OFFICE}/accueil`);
    assert.match(reception.body, new RegExp(`href="/fr/personnel/bureaux/${OFFICE}/equipe"`));
  });

  it('shows the forms, with the CSRF field, to managers', async () => {
    const res = await get(manager, EN);
    assert.equal(res.statusCode, 200);
    for (const id of ['add-counter-form', 'add-shift-form']) assert.match(res.body, new RegExp(`id="${id}"`));
    const csrfFields = res.body.match(/<input type="hidden" name="_csrf" value="[^"]+">/g) ?? [];
    const postForms = res.body.match(/<form method="post"/g) ?? [];
    const counters = await t.db.selectFrom('counters').select('id').where('office_id', '=', OFFICE).where('active', '=', true).where('agent_id', 'is', null).execute();
    assert.ok(postForms.length >= 2 + counters.length, 'add forms, and a remove form for each closed counter');
    assert.equal(csrfFields.length, postForms.length, 'every form carries the token');
    assert.match(res.body, /id="change-staff-agent"/);
    const edit = await get(manager, `${EN}?agent=staff-agent`);
    assert.match(edit.body, /id="agent-form"/);
    assert.match(edit.body, /<input type="hidden" name="staffId" value="staff-agent">/);
    assert.match(edit.body, /id="agent-lang-fr" name="languages" type="checkbox" value="fr" checked/);
  });

  it('refuses changes from non-managers (403) and pages of other offices as the other office pages do', async () => {
    const before = await counterCount();
    const res = await post(agent, EN, [['action', 'counter'], ['label', 'X1']]);
    assert.equal(res.statusCode, 403);
    const shift = await post(agent, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', '2030-01-07'], ['startTime', '09:00'], ['endTime', '10:00']]);
    assert.equal(shift.statusCode, 403);
    assert.equal(await counterCount(), before);
    // staff of an organisation not hosted here; staff without a counter role: same answers as the waiting-times page
    const outsider = await staffCookie(t.app, 'staff-cra-partner');
    const editor = await staffCookie(t.app, 'staff-mto-editor');
    for (const cookie of [outsider, editor]) {
      const waits = await get(cookie, `/en/staff/offices/${OFFICE}/waits`);
      const team = await get(cookie, EN);
      assert.ok([403, 404].includes(team.statusCode), String(team.statusCode));
      assert.equal(team.statusCode, waits.statusCode);
      assert.doesNotMatch(team.body, /Alex Agent/);
      const p = await post(cookie, EN, [['action', 'counter'], ['label', 'X2']]);
      assert.ok([403, 404].includes(p.statusCode), String(p.statusCode));
    }
    assert.equal((await get(outsider, EN)).statusCode, 404);
    assert.equal((await get(editor, EN)).statusCode, 403);
    // signed out: to the staff sign-in, and back here afterwards (issue 16)
    const signedOut = await get(null, EN);
    assert.equal(signedOut.statusCode, 303);
    assert.equal(signedOut.headers.location, `/en/staff/login?returnTo=${encodeURIComponent(EN)}`);
    assert.equal(await counterCount(), before);
  });

  it('adds a counter (303, then listed) and reports a taken label or an organisation not hosted on the field', async () => {
    const before = await counterCount();
    const res = await post(manager, EN, [['action', 'counter'], ['label', '9'], ['orgId', 'ottawa']]);
    assert.equal(res.statusCode, 303, res.body.slice(0, 500));
    assert.equal(res.headers.location, `${EN}?saved=counter`);
    const row = await t.db.selectFrom('counters').select(['org_id', 'agent_id']).where('office_id', '=', OFFICE).where('label', '=', '9').executeTakeFirstOrThrow();
    assert.deepEqual(row, { org_id: 'ottawa', agent_id: null });
    const page = await get(manager, res.headers.location as string);
    assert.match(page.body, /Counter added\./);
    assert.match(page.body, /<th scope="row" class="govuk-table__header">9<\/th>\s*<td class="govuk-table__cell">City of Ottawa \(demo\)<\/td>\s*<td class="govuk-table__cell">Closed<\/td>/);
    const shared = await post(manager, FR, [['action', 'counter'], ['label', 'B'], ['orgId', '']]);
    assert.equal(shared.statusCode, 303);
    assert.equal(shared.headers.location, `${FR}?saved=counter`);
    assert.equal((await t.db.selectFrom('counters').select('org_id').where('office_id', '=', OFFICE).where('label', '=', 'B').executeTakeFirstOrThrow()).org_id, null);
    const count = await counterCount();
    assert.equal(count, before + 2);

    const dup = await post(manager, EN, [['action', 'counter'], ['label', '9'], ['orgId', '']]);
    assertFieldError(dup, 'label');
    assert.match(dup.body, /already exists/);
    assert.match(dup.body, /value="9"/, 'the answer is kept');
    const dupFr = await post(manager, FR, [['action', 'counter'], ['label', '9']]);
    assertFieldError(dupFr, 'label');
    assert.match(dupFr.body, /Un comptoir porte déjà ce libellé/);
    assertFieldError(await post(manager, EN, [['action', 'counter'], ['label', '']]), 'label');
    assertFieldError(await post(manager, EN, [['action', 'counter'], ['label', '12345678901']]), 'label');
    const unhosted = await post(manager, EN, [['action', 'counter'], ['label', '10'], ['orgId', 'cra-arc']]);
    assertFieldError(unhosted, 'orgId');
    assert.match(unhosted.body, /not hosted at this office/);
    assert.equal(await counterCount(), count, 'nothing half-written');

    // the API answers as before (same function underneath)
    const apiDup = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/counters`, { label: '9' });
    assert.equal(apiDup.statusCode, 409);
    assert.equal(apiDup.json().error.code, 'COUNTER_EXISTS');
    const apiUnhosted = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/counters`, { label: '11', orgId: 'cra-arc' });
    assert.equal(apiUnhosted.statusCode, 400);
    assert.deepEqual(apiUnhosted.json().error.details.map((x: { field: string; code: string }) => [x.field, x.code]), [['orgId', 'notHosted']]);
    const apiOk = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/counters`, { label: '12', orgId: null });
    assert.equal(apiOk.statusCode, 201);
    assert.deepEqual(Object.keys(apiOk.json()), ['id', 'label', 'orgId']);
    assert.equal(apiOk.json().label, '12');
    assert.equal(apiOk.json().orgId, null);
    assert.equal((await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters`, { label: '13' })).statusCode, 403);
  });

  it("sets an agent's skills, languages and loan, and reports a missing language on the field", async () => {
    const res = await post(manager, EN, [['action', 'agent'], ['staffId', 'staff-agent'], ['skills', 'demo-dog-licence'], ['skills', 'demo-health-card'], ['languages', 'fr'], ['lentToOrgId', 'ottawa']]);
    assert.equal(res.statusCode, 303, res.body.slice(0, 500));
    assert.equal(res.headers.location, `${EN}?saved=agent`);
    assert.deepEqual(await profile('staff-agent'), { skills: ['demo-dog-licence', 'demo-health-card'], languages: ['fr'], lent_to_org_id: 'ottawa' });
    const page = await get(manager, `${EN}?agent=staff-agent`);
    assert.match(page.body, /Agent profile saved\.|id="agent-form"/);
    assert.match(page.body, /id="skill-demo-dog-licence" name="skills" type="checkbox" value="demo-dog-licence" checked/);
    assert.match(page.body, /id="agent-lang-en" name="languages" type="checkbox" value="en" >/);
    assert.match(page.body, /<option value="ottawa" selected>/);

    // a staff member without a profile yet (the Ministry of Transportation's editor), no skill = every service
    const mto = await post(manager, FR, [['action', 'agent'], ['staffId', 'staff-mto-editor'], ['languages', 'en'], ['languages', 'fr']]);
    assert.equal(mto.statusCode, 303);
    assert.deepEqual(await profile('staff-mto-editor'), { skills: [], languages: ['en', 'fr'], lent_to_org_id: null });

    const before = await profile('staff-agent');
    const noLang = await post(manager, EN, [['action', 'agent'], ['staffId', 'staff-agent'], ['skills', 'demo-dog-licence']]);
    assertFieldError(noLang, 'languages');
    assert.match(noLang.body, /id="agent-form"/, 'the form is shown again');
    assert.match(noLang.body, /id="skill-demo-dog-licence" name="skills" type="checkbox" value="demo-dog-licence" checked/);
    assertFieldError(await post(manager, EN, [['action', 'agent'], ['staffId', 'staff-agent'], ['languages', 'english']]), 'languages');
    const unhosted = await post(manager, EN, [['action', 'agent'], ['staffId', 'staff-agent'], ['languages', 'en'], ['lentToOrgId', 'cra-arc']]);
    assertFieldError(unhosted, 'lentToOrgId');
    // staff who do not work at this office cannot be changed from its page
    const outsider = await post(manager, EN, [['action', 'agent'], ['staffId', 'staff-cra-partner'], ['languages', 'en']]);
    assert.equal(outsider.statusCode, 404);
    assert.equal(await profile('staff-cra-partner'), undefined);
    assert.deepEqual(await profile('staff-agent'), before, 'nothing half-written');
    assert.equal((await post(agent, EN, [['action', 'agent'], ['staffId', 'staff-agent'], ['languages', 'en']])).statusCode, 403);
    assert.deepEqual(await profile('staff-agent'), before);

    // the API answers as before
    const apiNoLang = await api(manager, 'PUT', `/api/v1/offices/${OFFICE}/agents/staff-agent`, { skills: [], languages: [] });
    assert.equal(apiNoLang.statusCode, 400);
    assert.equal(apiNoLang.json().error.details[0].field, 'languages');
    const apiUnknown = await api(manager, 'PUT', `/api/v1/offices/${OFFICE}/agents/nobody`, { skills: [], languages: ['en'] });
    assert.equal(apiUnknown.statusCode, 404);
    assert.equal(apiUnknown.json().error.code, 'STAFF_NOT_FOUND');
    // staff of an organisation this office does not host: the same 404 (not changed, not lent into the office)
    const apiOutsider = await api(manager, 'PUT', `/api/v1/offices/${OFFICE}/agents/staff-cra-partner`, { skills: [], languages: ['en'], lentToOrgId: null });
    assert.equal(apiOutsider.statusCode, 404);
    assert.equal(apiOutsider.json().error.code, 'STAFF_NOT_FOUND');
    assert.equal(await profile('staff-cra-partner'), undefined);
    const apiOk = await api(manager, 'PUT', `/api/v1/offices/${OFFICE}/agents/staff-agent`, { skills: [], languages: ['en', 'fr'], lentToOrgId: null });
    assert.equal(apiOk.statusCode, 200, apiOk.body);
    assert.deepEqual(apiOk.json(), { staffId: 'staff-agent', skills: [], languages: ['en', 'fr'], lentToOrgId: null });
    assert.deepEqual(await profile('staff-agent'), { skills: [], languages: ['en', 'fr'], lent_to_org_id: null });
  });

  it("adds a shift in the office's time zone and reports an end before the start on the field", async () => {
    const tomorrow = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + 86400_000));
    const c3 = await counterId('3');
    const before = await shiftCount();
    const res = await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-ottawa-editor'], ['counterId', c3], ['date', tomorrow], ['startTime', '09:15'], ['endTime', '12:45']]);
    assert.equal(res.statusCode, 303, res.body.slice(0, 800));
    assert.equal(res.headers.location, `${EN}?saved=shift`);
    const row = await t.db.selectFrom('agent_shifts').selectAll().where('office_id', '=', OFFICE).where('starts_at', '=', expectedInstant(tomorrow, '09:15', tz)).executeTakeFirstOrThrow();
    assert.equal(row.staff_id, 'staff-ottawa-editor');
    assert.equal(row.counter_id, c3);
    assert.equal(row.ends_at.toISOString(), expectedInstant(tomorrow, '12:45', tz).toISOString());
    const page = await get(agent, EN);
    assert.match(page.body, new RegExp(`<time datetime="${tomorrow}">[^<]+</time></td>\\s*<th scope="row" class="govuk-table__header">Olivia Editor \\(Ottawa\\)</th>\\s*<td class="govuk-table__cell">3</td>\\s*<td class="govuk-table__cell">09:15</td>\\s*<td class="govuk-table__cell">12:45</td>`));

    // fixed dates on both sides of daylight saving time: Ottawa is UTC-4 in July and UTC-5 in January
    assert.equal(tz, 'America/Toronto');
    for (const [date, startUtc, endUtc] of [['2030-07-15', '2030-07-15T13:00:00.000Z', '2030-07-15T21:30:00.000Z'], ['2030-01-15', '2030-01-15T14:00:00.000Z', '2030-01-15T22:30:00.000Z']]) {
      const r = await post(manager, FR, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', date], ['startTime', '9:00'], ['endTime', '17:30']]);
      assert.equal(r.statusCode, 303, r.body.slice(0, 800));
      const s = await t.db.selectFrom('agent_shifts').select(['starts_at', 'ends_at', 'counter_id']).where('staff_id', '=', 'staff-agent').where('starts_at', '=', new Date(startUtc)).executeTakeFirstOrThrow();
      assert.equal(s.ends_at.toISOString(), endUtc);
      assert.equal(s.counter_id, null);
    }
    const count = await shiftCount();
    assert.equal(count, before + 3);

    const backwards = await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', tomorrow], ['startTime', '14:00'], ['endTime', '13:00']]);
    assertFieldError(backwards, 'endTime');
    assert.match(backwards.body, /value="14:00"/, 'the answers are kept');
    assertFieldError(await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', tomorrow], ['startTime', '14:00'], ['endTime', '14:00']]), 'endTime');
    assertFieldError(await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', tomorrow], ['startTime', '25:00'], ['endTime', '14:00']]), 'startTime');
    assertFieldError(await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', '2030-02-30'], ['startTime', '09:00'], ['endTime', '14:00']]), 'date');
    assertFieldError(await post(manager, EN, [['action', 'shift'], ['staffId', ''], ['date', tomorrow], ['startTime', '09:00'], ['endTime', '14:00']]), 'staffId');
    assertFieldError(await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-cra-partner'], ['date', tomorrow], ['startTime', '09:00'], ['endTime', '14:00']]), 'staffId');
    assertFieldError(await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['counterId', 'not-a-counter'], ['date', tomorrow], ['startTime', '09:00'], ['endTime', '14:00']]), 'counterId');
    const fr = await post(manager, FR, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', tomorrow], ['startTime', '14:00'], ['endTime', '13:00']]);
    assertFieldError(fr, 'endTime');
    assert.match(fr.body, /Heure de fin/);
    assert.equal(await shiftCount(), count, 'nothing half-written');

    // the API answers as before
    const apiBack = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/shifts`, { staffId: 'staff-agent', startsAt: '2030-03-01T15:00:00Z', endsAt: '2030-03-01T14:00:00Z' });
    assert.equal(apiBack.statusCode, 400);
    assert.deepEqual(apiBack.json().error.details.map((x: { field: string; code: string }) => [x.field, x.code]), [['endsAt', 'invalid']]);
    const apiBadStaff = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/shifts`, { staffId: 'nobody', startsAt: '2030-03-01T13:00:00Z', endsAt: '2030-03-01T14:00:00Z' });
    assert.equal(apiBadStaff.json().error.details[0].field, 'staffId');
    const apiOutsider = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/shifts`, { staffId: 'staff-cra-partner', startsAt: '2030-03-01T13:00:00Z', endsAt: '2030-03-01T14:00:00Z' });
    assert.equal(apiOutsider.statusCode, 400, 'staff of an organisation this office does not host cannot be scheduled here');
    assert.equal(apiOutsider.json().error.details[0].field, 'staffId');
    const apiOk = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/shifts`, { staffId: 'staff-agent', counterId: c3, startsAt: '2030-03-01T13:00:00Z', endsAt: '2030-03-01T14:00:00Z' });
    assert.equal(apiOk.statusCode, 201);
    assert.equal(typeof apiOk.json().id, 'string');
    assert.equal(await shiftCount(), count + 1);
  });

  it('changes and removes counters (kept for their history; not while open), and changes and removes shifts that have not ended', async () => {
    const localDay = (n: number) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + n * 86400_000));
    const shifts = (id: string) => t.db.selectFrom('agent_shifts').select(['id', 'counter_id']).where('id', '=', id).executeTakeFirst();
    const counter = (id: string) => t.db.selectFrom('counters').select(['label', 'org_id', 'active']).where('id', '=', id).executeTakeFirstOrThrow();
    const c4 = await counterId('4');
    // change: the form is filled from the counter; a new label and a shared owner
    const form = await get(manager, `${EN}?counter=${c4}`);
    assert.match(form.body, /id="counter-form"/);
    assert.match(form.body, /id="f-counterLabel" name="label"[^>]*value="4"/);
    const changed = await post(manager, EN, [['action', 'counterChange'], ['counterId', c4], ['label', '4A'], ['orgId', '']]);
    assert.equal(changed.statusCode, 303, changed.body.slice(0, 500));
    assert.equal(changed.headers.location, `${EN}?saved=counterChanged`);
    assert.deepEqual(await counter(c4), { label: '4A', org_id: null, active: true });
    assert.match((await get(manager, `${EN}?saved=counterChanged`)).body, /Counter changed\./);
    // a label another counter has, an organisation not hosted: on the change form's fields, nothing changed
    const taken = await post(manager, EN, [['action', 'counterChange'], ['counterId', c4], ['label', '1']]);
    assertFieldError(taken, 'counterLabel');
    assert.match(taken.body, /id="counter-form"/, 'the change form is shown again');
    assert.match(taken.body, /value="1"/, 'with the answer');
    assertFieldError(await post(manager, FR, [['action', 'counterChange'], ['counterId', c4], ['label', '4B'], ['orgId', 'cra-arc']]), 'counterOrgId');
    assert.deepEqual(await counter(c4), { label: '4A', org_id: null, active: true });
    const apiChange = await api(manager, 'PATCH', `/api/v1/offices/${OFFICE}/counters/${c4}`, { label: '4', orgId: 'on-mto' });
    assert.equal(apiChange.statusCode, 200, apiChange.body);
    assert.deepEqual(apiChange.json(), { id: c4, label: '4', orgId: 'on-mto' });
    assert.equal((await api(manager, 'PATCH', `/api/v1/offices/${OFFICE}/counters/${c4}`, { label: '2' })).json().error.code, 'COUNTER_EXISTS');
    assert.equal((await api(agent, 'PATCH', `/api/v1/offices/${OFFICE}/counters/${c4}`, { label: '44' })).statusCode, 403);

    // remove: not while an agent has the counter open
    const c1 = await counterId('1');
    const future = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/shifts`, { staffId: 'staff-agent', counterId: c1, startsAt: '2031-05-01T13:00:00Z', endsAt: '2031-05-01T17:00:00Z' });
    assert.equal(future.statusCode, 201);
    assert.equal((await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${c1}/open`)).statusCode, 200);
    const busy = await post(manager, FR, [['action', 'counterRemove'], ['counterId', c1]]);
    assert.equal(busy.statusCode, 409);
    assert.match(busy.body, /Un agent a ouvert ce comptoir/);
    assert.doesNotMatch((await get(manager, EN)).body, new RegExp(`id="remove-counter-${c1}"`), 'no remove button for an open counter');
    assert.equal((await api(manager, 'DELETE', `/api/v1/offices/${OFFICE}/counters/${c1}`)).json().error.code, 'COUNTER_IN_USE');
    assert.equal((await counter(c1)).active, true);
    assert.equal((await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${c1}/close`)).statusCode, 200);
    const removed = await post(manager, EN, [['action', 'counterRemove'], ['counterId', c1]]);
    assert.equal(removed.statusCode, 303, removed.body.slice(0, 500));
    assert.equal(removed.headers.location, `${EN}?saved=counterRemoved`);
    assert.deepEqual(await counter(c1), { label: '1', org_id: null, active: false }, 'kept, inactive, for the tickets it served');
    assert.equal((await shifts(future.json().id))?.counter_id, null, 'its future shift keeps its time, at any counter');
    const page = await get(manager, `${EN}?saved=counterRemoved`);
    assert.doesNotMatch(page.body, new RegExp(`id="counter-${c1}"`));
    assert.match(page.body, /Counter removed\./);
    assert.equal((await api(agent, 'POST', `/api/v1/offices/${OFFICE}/counters/${c1}/open`)).json().error.code, 'COUNTER_NOT_FOUND', 'a removed counter cannot be opened');
    assert.equal((await api(manager, 'DELETE', `/api/v1/offices/${OFFICE}/counters/${c1}`)).statusCode, 404);
    // its label may be given to a new counter
    assert.equal((await post(manager, EN, [['action', 'counter'], ['label', '1']])).statusCode, 303);
    assert.notEqual(await t.db.selectFrom('counters').select('id').where('office_id', '=', OFFICE).where('label', '=', '1').where('active', '=', true).executeTakeFirstOrThrow().then((r) => r.id), c1);

    // shifts: change one that has not ended (page and API)
    const tomorrow = localDay(1);
    const planned = await post(manager, EN, [['action', 'shift'], ['staffId', 'staff-agent'], ['date', tomorrow], ['startTime', '08:00'], ['endTime', '12:00']]);
    assert.equal(planned.statusCode, 303);
    const plannedId = (await t.db.selectFrom('agent_shifts').select('id').where('staff_id', '=', 'staff-agent').where('starts_at', '=', expectedInstant(tomorrow, '08:00', tz)).executeTakeFirstOrThrow()).id;
    const changeForm = await get(manager, `${EN}?shift=${plannedId}`);
    assert.match(changeForm.body, /id="shift-form"/);
    assert.match(changeForm.body, new RegExp(`<input type="hidden" name="shiftId" value="${plannedId}">`));
    assert.match(changeForm.body, /id="f-startTime" name="startTime"[^>]*value="08:00"/);
    const c2 = await counterId('2');
    const moved = await post(manager, FR, [['action', 'shiftChange'], ['shiftId', plannedId], ['staffId', 'staff-ottawa-editor'], ['counterId', c2], ['date', tomorrow], ['startTime', '13:00'], ['endTime', '17:30']]);
    assert.equal(moved.statusCode, 303, moved.body.slice(0, 500));
    assert.equal(moved.headers.location, `${FR}?saved=shiftChanged`);
    assert.deepEqual(await t.db.selectFrom('agent_shifts').select(['staff_id', 'counter_id', 'starts_at', 'ends_at']).where('id', '=', plannedId).executeTakeFirstOrThrow(), {
      staff_id: 'staff-ottawa-editor', counter_id: c2, starts_at: expectedInstant(tomorrow, '13:00', tz), ends_at: expectedInstant(tomorrow, '17:30', tz),
    });
    const backwardsChange = await post(manager, EN, [['action', 'shiftChange'], ['shiftId', plannedId], ['staffId', 'staff-agent'], ['date', tomorrow], ['startTime', '15:00'], ['endTime', '14:00']]);
    assertFieldError(backwardsChange, 'endTime');
    assert.match(backwardsChange.body, /id="shift-form"/, 'the change form again, with the answers');
    assert.equal((await t.db.selectFrom('agent_shifts').select('staff_id').where('id', '=', plannedId).executeTakeFirstOrThrow()).staff_id, 'staff-ottawa-editor', 'unchanged');
    const apiMove = await api(manager, 'PATCH', `/api/v1/offices/${OFFICE}/shifts/${plannedId}`, { staffId: 'staff-agent', counterId: null, startsAt: '2031-07-01T13:00:00Z', endsAt: '2031-07-01T15:00:00Z' });
    assert.equal(apiMove.statusCode, 200, apiMove.body);
    assert.equal((await t.db.selectFrom('agent_shifts').select('counter_id').where('id', '=', plannedId).executeTakeFirstOrThrow()).counter_id, null);
    assert.equal((await api(manager, 'PATCH', `/api/v1/offices/${OFFICE}/shifts/${plannedId}`, { staffId: 'staff-agent', counterId: c1, startsAt: '2031-07-01T13:00:00Z', endsAt: '2031-07-01T15:00:00Z' })).json().error.details[0].field, 'counterId', 'not at a removed counter');
    assert.equal((await api(agent, 'PATCH', `/api/v1/offices/${OFFICE}/shifts/${plannedId}`, { staffId: 'staff-agent', startsAt: '2031-07-01T13:00:00Z', endsAt: '2031-07-01T15:00:00Z' })).statusCode, 403);
    assert.equal((await api(manager, 'PATCH', `/api/v1/offices/${OFFICE}/shifts/00000000-0000-4000-8000-000000000000`, { staffId: 'staff-agent', startsAt: '2031-07-01T13:00:00Z', endsAt: '2031-07-01T15:00:00Z' })).statusCode, 404);

    // shifts: remove one that has not ended; an ended one stays (the record of who worked)
    const later = await api(manager, 'POST', `/api/v1/offices/${OFFICE}/shifts`, { staffId: 'staff-agent', startsAt: '2031-06-01T13:00:00Z', endsAt: '2031-06-01T17:00:00Z' });
    const gone = await post(manager, EN, [['action', 'shiftRemove'], ['shiftId', later.json().id]]);
    assert.equal(gone.statusCode, 303, gone.body.slice(0, 500));
    assert.equal(gone.headers.location, `${EN}?saved=shiftRemoved`);
    assert.equal(await shifts(later.json().id), undefined);
    const past = await t.db.insertInto('agent_shifts').values({ office_id: OFFICE, staff_id: 'staff-agent', counter_id: null, starts_at: new Date(Date.now() - 5 * 3600_000), ends_at: new Date(Date.now() - 3600_000) }).returning('id').executeTakeFirstOrThrow();
    const ended = await api(manager, 'DELETE', `/api/v1/offices/${OFFICE}/shifts/${past.id}`);
    assert.equal(ended.statusCode, 409);
    assert.equal(ended.json().error.code, 'SHIFT_ENDED');
    assert.equal((await api(manager, 'PATCH', `/api/v1/offices/${OFFICE}/shifts/${past.id}`, { staffId: 'staff-agent', startsAt: '2031-07-01T13:00:00Z', endsAt: '2031-07-01T15:00:00Z' })).json().error.code, 'SHIFT_ENDED');
    assert.ok(await shifts(past.id));
    assert.doesNotMatch((await get(manager, EN)).body, new RegExp(`id="remove-shift-${past.id}"`), 'no remove button for an ended shift');
    // guessed ids and other roles: 404 and 403, nothing removed
    assert.equal((await api(manager, 'DELETE', `/api/v1/offices/${OFFICE}/shifts/00000000-0000-4000-8000-000000000000`)).json().error.code, 'SHIFT_NOT_FOUND');
    assert.equal((await api(manager, 'DELETE', `/api/v1/offices/${OFFICE}/shifts/not-an-id`)).statusCode, 404);
    assert.equal((await post(manager, EN, [['action', 'shiftRemove'], ['shiftId', 'x']])).statusCode, 404);
    assert.equal((await api(agent, 'DELETE', `/api/v1/offices/${OFFICE}/shifts/${future.json().id}`)).statusCode, 403);
    assert.equal((await post(agent, EN, [['action', 'counterRemove'], ['counterId', c4]])).statusCode, 403);
    assert.equal((await counter(c4)).active, true);
    assert.ok(await shifts(future.json().id));
  });

  it('requires the CSRF token on every form post', async () => {
    const before = await counterCount();
    const res = await post(manager, EN, [['action', 'counter'], ['label', 'Z']], false);
    assert.equal(res.statusCode, 403);
    const unknown = await post(manager, EN, [['action', 'delete-everything']]);
    assert.equal(unknown.statusCode, 400);
    assert.equal(await counterCount(), before);
  });
});
