/**
 * Service guarantee ("result within N days or your fee back"): a scheduled job finds open or late-decided cases
 * past their guarantee date, records the refund owed (guarantee_refunds, settled by the agreements work), flags the
 * case for staff, and logs a system interaction. Idempotent: a case is recorded once (unique case_id).
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { localDate, TIME_ZONE } from './due-date';

export async function detectGuaranteeBreaches(db: Database, now = new Date()): Promise<{ breaches: number; caseIds: string[] }> {
  const today = localDate(now);
  const candidates = await db
    .selectFrom('cases')
    .innerJoin('services', 'services.id', 'cases.service_id')
    .select(['cases.id', 'cases.service_id', 'cases.client_id', 'cases.responsible_org_id', 'cases.guarantee_due_date', 'services.guarantee_days'])
    .where('cases.guarantee_due_date', 'is not', null)
    .where('cases.guarantee_due_date', '<', today)
    .where('cases.guarantee_breached_at', 'is', null)
    .where('cases.status', '<>', 'withdrawn')
    .where((eb) =>
      eb.or([
        eb('cases.decided_at', 'is', null),
        eb('cases.decided_at', '>=', sql<Date>`((cases.guarantee_due_date + 1)::timestamp at time zone ${sql.lit(TIME_ZONE)})`),
      ]),
    )
    .limit(500)
    .execute();
  const caseIds: string[] = [];
  for (const c of candidates) {
    await db.transaction().execute(async (trx) => {
      const fee = await trx
        .selectFrom('service_costs')
        .select(sql<number>`coalesce(min(amount_cents), 0)::bigint`.as('cents'))
        .where('service_id', '=', c.service_id)
        .executeTakeFirstOrThrow();
      const ins = await trx
        .insertInto('guarantee_refunds')
        .values({
          case_id: c.id,
          service_id: c.service_id,
          client_id: c.client_id,
          org_id: c.responsible_org_id,
          guarantee_days: c.guarantee_days ?? 0,
          guarantee_due_date: c.guarantee_due_date!,
          amount_cents: Number(fee.cents),
          settled_at: null,
          settlement_ref: null,
        })
        .onConflict((oc) => oc.column('case_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      await trx.updateTable('cases').set({ guarantee_breached_at: now }).where('id', '=', c.id).where('guarantee_breached_at', 'is', null).execute();
      if (ins) {
        await trx
          .insertInto('case_interactions')
          .values({ case_id: c.id, channel: 'web', actor_kind: 'system', actor_id: 'guarantee-check', org_id: null, outcome: 'guarantee_breached', note: `due ${c.guarantee_due_date}` })
          .execute();
        caseIds.push(c.id);
      }
    });
  }
  return { breaches: caseIds.length, caseIds };
}
