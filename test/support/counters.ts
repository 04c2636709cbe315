/**
 * Counters test helper: the kiosk gives tickets only within the office's opening hours (walkInStatus), and tests run
 * at any hour. openAllDay makes today (office-local) an exception open 00:00–24:00, so a test at 23:30 still gets
 * a ticket; other days keep their real hours (appointment slots of tomorrow are unchanged).
 */
import type { Database } from '../../src/db/database';
import { localDate } from '../../src/i18n/index';

export async function openAllDay(db: Database, officeId: string, now = new Date()): Promise<void> {
  const office = await db.selectFrom('offices').select('timezone').where('id', '=', officeId).executeTakeFirstOrThrow();
  const date = localDate(now, office.timezone);
  await db
    .insertInto('office_hours_exceptions')
    .values({ office_id: officeId, date, closed: false, opens: '00:00', closes: '24:00', reason_en: 'Test: open all day', reason_fr: 'Test : ouvert toute la journée' })
    .onConflict((oc) => oc.columns(['office_id', 'date']).doUpdateSet({ closed: false, opens: '00:00', closes: '24:00' }))
    .execute();
}
