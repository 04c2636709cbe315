/**
 * Demo counters for the demo offices (idempotent): at the shared Ben Franklin centre, two shared counters and one
 * counter each for the City of Ottawa and the Ministry of Transportation; agent profiles for the demo staff and shifts
 * for the next three weeks (so that appointments can be booked).
 */
import type { Database } from '../db/database';
import { localParts, zonedTime } from './time';

export const DEMO_OFFICE = 'ottawa-ben-franklin';

export async function ensureDemoCounters(db: Database, now = new Date()): Promise<boolean> {
  const office = await db.selectFrom('offices').select(['id', 'timezone']).where('id', '=', DEMO_OFFICE).executeTakeFirst();
  if (!office) return false;
  const has = await db.selectFrom('counters').select('id').where('office_id', '=', DEMO_OFFICE).limit(1).executeTakeFirst();
  if (has) return false;
  const staff = new Set((await db.selectFrom('staff_users').select('id').execute()).map((s) => s.id));
  if (!staff.has('staff-agent') || !staff.has('staff-ottawa-editor')) return false;
  await db.transaction().execute(async (trx) => {
    const counters = await trx
      .insertInto('counters')
      .values([
        { office_id: DEMO_OFFICE, label: '1', org_id: null, agent_id: null, opened_at: null },
        { office_id: DEMO_OFFICE, label: '2', org_id: null, agent_id: null, opened_at: null },
        { office_id: DEMO_OFFICE, label: '3', org_id: 'ottawa', agent_id: null, opened_at: null },
        { office_id: DEMO_OFFICE, label: '4', org_id: 'on-mto', agent_id: null, opened_at: null },
      ])
      .returning(['id', 'label'])
      .execute();
    const byLabel = new Map(counters.map((c) => [c.label, c.id]));
    await trx
      .insertInto('agent_profiles')
      .values([
        { staff_id: 'staff-agent', skills: [], languages: ['en', 'fr'] },
        { staff_id: 'staff-ottawa-editor', skills: ['demo-dog-licence', 'demo-property-tax-address', 'demo-health-card'], languages: ['en', 'fr'] },
      ])
      .onConflict((oc) => oc.column('staff_id').doNothing())
      .execute();
    const hours = await trx.selectFrom('office_hours').selectAll().where('office_id', '=', DEMO_OFFICE).execute();
    const shifts = [];
    for (let d = 0; d < 21; d++) {
      const date = localParts(new Date(now.getTime() + d * 86400_000), office.timezone);
      for (const h of hours.filter((x) => x.weekday === date.weekday)) {
        const starts_at = zonedTime(date.date, h.opens, office.timezone);
        const ends_at = zonedTime(date.date, h.closes, office.timezone);
        shifts.push({ office_id: DEMO_OFFICE, staff_id: 'staff-agent', counter_id: byLabel.get('1')!, starts_at, ends_at });
        shifts.push({ office_id: DEMO_OFFICE, staff_id: 'staff-ottawa-editor', counter_id: byLabel.get('3')!, starts_at, ends_at });
      }
    }
    if (shifts.length) await trx.insertInto('agent_shifts').values(shifts).execute();
  });
  return true;
}
