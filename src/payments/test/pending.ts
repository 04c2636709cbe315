/**
 * Pending card payments of a two-partner basket (MTO $88 + $2 service fee, Ottawa $18 + $1: $109), made set-based
 * for the crash test and bench:payments. Basket references are `<PREFIX>-<n>`; the provider's reference is
 * `<prefix>_<n>` (lower case), which a confirmation webhook names as its `payment_id`.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database';

export async function insertPendingPayments(db: Database, prefix: string, n: number): Promise<void> {
  const upper = prefix.toUpperCase();
  const lower = prefix.toLowerCase();
  await sql`
    with b as (
      insert into payment_baskets (reference, channel, lang, total_cents, expires_at)
      select ${upper} || '-' || g, 'web', 'en', 10900, now() + interval '1 day' from generate_series(1, ${n}::int) g
      returning id, reference
    ), l as (
      insert into basket_lines (basket_id, service_id, fee_version_id, total_cents)
      select b.id, s.service_id, ${lower}, s.total from b cross join (values ('demo-driver-licence', 9000), ('demo-dog-licence', 1900)) s(service_id, total)
      returning id, basket_id, service_id
    ), c as (
      insert into basket_components (basket_id, line_id, kind, payee_org_id, account_id, amount_cents)
      select l.basket_id, l.id, k.kind, k.payee, k.account, k.amount from l join (values
        ('demo-driver-licence', 'statutory', 'on-mto', 'payable:on-mto', 8800), ('demo-driver-licence', 'service_fee', 'guichet', 'revenue:fees', 200),
        ('demo-dog-licence', 'statutory', 'ottawa', 'payable:ottawa', 1800), ('demo-dog-licence', 'service_fee', 'guichet', 'revenue:fees', 100)
      ) k(service_id, kind, payee, account, amount) on k.service_id = l.service_id
      returning 1
    )
    insert into payments (basket_id, reference, provider, provider_ref, method, amount_cents, status, debit_account_id)
    select b.id, b.reference, 'dev', ${lower} || '_' || substr(b.reference, ${upper.length + 2}::int), 'card', 10900, 'pending', 'clearing:dev' from b
    where (select count(*) from c) > 0`.execute(db);
}
