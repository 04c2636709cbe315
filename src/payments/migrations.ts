import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Migrations of the payments capability (group 700_payments). The ledger's rules live in the database itself:
 * - an entry whose legs do not sum to zero, or that has fewer than two legs, is refused at COMMIT (deferred
 *   constraint triggers, so the entry and its legs can be written by separate statements of one transaction);
 * - a posted entry or leg can never be updated, deleted or truncated (a correction is a reversing entry);
 * - each account's balance is kept by a trigger on every leg, in the same transaction (the application locks the
 *   accounts of an entry in sorted order first, as pgledger does, so concurrent postings never deadlock).
 * Plain PL/pgSQL that PostgreSQL 15 and PGlite (PostgreSQL 18) both accept.
 */
export const migrations: Record<string, Migration> = {
  '001_ledger': {
    async up(db: Kysely<any>) {
      await sql`
        create table ledger_accounts (
          id text primary key,
          kind text not null check (kind in ('clearing','bank','payable','fee_revenue','card_costs','refunds',
            'receivable_invoice','receivable_statement','cash','refunds_owed')),
          org_id text references organisations(id),
          office_id text references offices(id),
          business_id text references clients(id),
          created_at timestamptz not null default now()
        );
        create index ledger_accounts_org on ledger_accounts(org_id) where org_id is not null;
        -- an account's balance, kept in 16 shards: a posting updates the shard of its database session
        -- (pg_backend_pid() % 16), so postings to a hot account (the provider's clearing account, the fee revenue)
        -- from different connections do not queue on one row; the balance is the sum of the shards
        create table ledger_balances (
          account_id text not null references ledger_accounts(id),
          shard smallint not null check (shard between 0 and 15),
          balance_cents bigint not null default 0,
          postings bigint not null default 0,
          primary key (account_id, shard)
        );
        create view ledger_account_balances as
          select a.id, a.kind, a.org_id, a.office_id, a.business_id,
                 coalesce(sum(b.balance_cents), 0)::bigint as balance_cents, coalesce(sum(b.postings), 0)::bigint as postings
          from ledger_accounts a left join ledger_balances b on b.account_id = a.id
          group by a.id;
        create table journal_entries (
          id bigserial primary key,
          event text not null check (event in ('payment','refund','remittance','remittance_return','invoice','statement','settlement','correction')),
          event_ref text not null,
          effective_date date not null,
          written_at timestamptz not null default now(),
          memo text not null default '',
          reverses_entry_id bigint unique references journal_entries(id),
          -- one posting per business fact (e.g. 'payment:<id>'): a replayed confirmation cannot post twice
          posting_key text not null unique
        );
        create index journal_entries_event on journal_entries(event, event_ref);
        create table journal_legs (
          id bigserial primary key,
          entry_id bigint not null references journal_entries(id),
          account_id text not null references ledger_accounts(id),
          amount_cents bigint not null check (amount_cents <> 0 and abs(amount_cents) <= 100000000000)
        );
        create index journal_legs_entry on journal_legs(entry_id);
        create index journal_legs_account on journal_legs(account_id, entry_id);

        create function ledger_check_entry_id(eid bigint) returns void language plpgsql as $$
        declare s numeric; n integer;
        begin
          select coalesce(sum(amount_cents), 0), count(*) into s, n from journal_legs where entry_id = eid;
          if n < 2 then
            raise exception 'ledger: entry % has % leg(s); an entry needs at least two', eid, n using errcode = '23514';
          end if;
          if s <> 0 then
            raise exception 'ledger: entry % is unbalanced (legs sum to % cents)', eid, s using errcode = '23514';
          end if;
        end $$;
        create function ledger_check_entry() returns trigger language plpgsql as $$
        begin
          perform ledger_check_entry_id(new.id);
          return null;
        end $$;
        create function ledger_check_leg() returns trigger language plpgsql as $$
        begin
          perform ledger_check_entry_id(new.entry_id);
          return null;
        end $$;
        create constraint trigger journal_entries_balanced after insert on journal_entries
          deferrable initially deferred for each row execute function ledger_check_entry();
        create constraint trigger journal_legs_balanced after insert on journal_legs
          deferrable initially deferred for each row execute function ledger_check_leg();

        create function ledger_immutable() returns trigger language plpgsql as $$
        begin
          raise exception 'ledger: posted % cannot be changed (% refused); post a reversing entry', tg_table_name, tg_op using errcode = '42501';
        end $$;
        create trigger journal_entries_immutable before update or delete on journal_entries
          for each row execute function ledger_immutable();
        create trigger journal_legs_immutable before update or delete on journal_legs
          for each row execute function ledger_immutable();
        create trigger journal_entries_no_truncate before truncate on journal_entries
          for each statement execute function ledger_immutable();
        create trigger journal_legs_no_truncate before truncate on journal_legs
          for each statement execute function ledger_immutable();

        create function ledger_apply_leg() returns trigger language plpgsql as $$
        begin
          update ledger_balances set balance_cents = balance_cents + new.amount_cents, postings = postings + 1
            where account_id = new.account_id and shard = pg_backend_pid() % 16;
          if not found then
            raise exception 'ledger: account % has no balance shards', new.account_id using errcode = '23503';
          end if;
          return null;
        end $$;
        create trigger journal_legs_balance after insert on journal_legs
          for each row execute function ledger_apply_leg();
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table journal_legs; drop table journal_entries; drop view ledger_account_balances; drop table ledger_balances; drop table ledger_accounts;
        drop function ledger_check_entry(); drop function ledger_check_leg(); drop function ledger_check_entry_id(bigint); drop function ledger_immutable(); drop function ledger_apply_leg();`.execute(db);
    },
  },
  '002_payments': {
    async up(db: Kysely<any>) {
      await sql`
        create table payment_idempotency (
          scope text not null,
          key text not null,
          request_hash text not null,
          status_code integer not null,
          response jsonb not null,
          created_at timestamptz not null default now(),
          primary key (scope, key)
        );
        create sequence payment_reference_seq;
        create table payment_baskets (
          id uuid primary key default gen_random_uuid(),
          reference text not null unique,
          channel text not null check (channel in ('web','counter','kiosk','account')),
          client_id text references clients(id),
          business_id text references clients(id),
          staff_id text,
          office_id text references offices(id),
          email text,
          lang text not null default 'en' check (lang in ('en','fr')),
          total_cents bigint not null check (total_cents > 0),
          status text not null default 'open' check (status in ('open','paid','cancelled')),
          created_at timestamptz not null default now(),
          expires_at timestamptz not null,
          paid_at timestamptz
        );
        create index payment_baskets_client on payment_baskets(client_id, created_at) where client_id is not null;
        create table basket_lines (
          id bigserial primary key,
          basket_id uuid not null references payment_baskets(id),
          service_id text not null references services(id),
          fee_version_id text not null,
          agreement_id text,
          case_id text,
          total_cents bigint not null check (total_cents > 0)
        );
        create index basket_lines_basket on basket_lines(basket_id);
        create table basket_components (
          id bigserial primary key,
          basket_id uuid not null references payment_baskets(id),
          line_id bigint not null references basket_lines(id),
          kind text not null check (kind in ('statutory','service_fee','card_recovery','tax')),
          payee_org_id text not null references organisations(id),
          account_id text not null references ledger_accounts(id),
          amount_cents bigint not null check (amount_cents > 0)
        );
        create index basket_components_basket on basket_components(basket_id);
        create table payments (
          id uuid primary key default gen_random_uuid(),
          basket_id uuid not null references payment_baskets(id),
          reference text not null,
          provider text not null,
          provider_ref text,
          method text not null check (method in ('card','cash','debit','cheque','account')),
          amount_cents bigint not null check (amount_cents > 0),
          status text not null default 'created' check (status in ('created','pending','succeeded','failed','cancelled')),
          failure_code text,
          next_url text,
          return_url text,
          debit_account_id text not null references ledger_accounts(id),
          staff_id text,
          entry_id bigint references journal_entries(id),
          created_at timestamptz not null default now(),
          confirmed_at timestamptz,
          settles_on date,
          receipt_sent_at timestamptz
        );
        create index payments_receipt_due on payments(confirmed_at) where status = 'succeeded' and receipt_sent_at is null;
        create unique index payments_provider_ref on payments(provider, provider_ref) where provider_ref is not null;
        create unique index payments_paid_once on payments(basket_id) where status = 'succeeded';
        create index payments_basket on payments(basket_id);
        create index payments_pending on payments(created_at) where status in ('created','pending');
        create table refunds (
          id uuid primary key default gen_random_uuid(),
          payment_id uuid not null references payments(id),
          amount_cents bigint not null check (amount_cents > 0),
          kind text not null check (kind in ('refund','guarantee')),
          reason text not null default '',
          status text not null default 'submitted' check (status in ('submitted','succeeded','failed','owed_cash')),
          provider_refund_ref text,
          guarantee_refund_id bigint unique,
          bearer text not null check (bearer in ('payees','partner','one_stop')),
          staff_id text,
          entry_id bigint references journal_entries(id),
          created_at timestamptz not null default now(),
          settled_at timestamptz
        );
        create index refunds_payment on refunds(payment_id);
        create table refund_components (
          id bigserial primary key,
          refund_id uuid not null references refunds(id),
          component_id bigint not null references basket_components(id),
          account_id text not null references ledger_accounts(id),
          amount_cents bigint not null check (amount_cents > 0)
        );
        create index refund_components_component on refund_components(component_id);
        create index refund_components_refund on refund_components(refund_id);
        create table provider_events (
          provider text not null,
          event_id text not null,
          type text not null,
          payment_id uuid references payments(id),
          outcome text not null,
          received_at timestamptz not null default now(),
          primary key (provider, event_id)
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table provider_events; drop table refund_components; drop table refunds; drop table payments;
        drop table basket_components; drop table basket_lines; drop table payment_baskets; drop sequence payment_reference_seq;
        drop table payment_idempotency;`.execute(db);
    },
  },
  '003_remittance': {
    async up(db: Kysely<any>) {
      await sql`
        create table remittance_runs (
          id uuid primary key default gen_random_uuid(),
          run_key text not null unique,
          cutoff_date date not null,
          started_at timestamptz not null default now(),
          batches integer not null default 0,
          skipped_paused integer not null default 0
        );
        create table remittance_batches (
          id uuid primary key default gen_random_uuid(),
          run_id uuid not null references remittance_runs(id),
          org_id text not null references organisations(id),
          agreement_id text,
          gross_cents bigint not null,
          netted_cents bigint not null default 0,
          total_cents bigint not null check (total_cents > 0),
          items integer not null,
          status text not null default 'sent' check (status in ('sent','acknowledged','paid','returned')),
          message_id text not null unique,
          bank_reference text,
          entry_id bigint references journal_entries(id),
          return_entry_id bigint references journal_entries(id),
          created_at timestamptz not null default now(),
          status_at timestamptz not null default now()
        );
        create index remittance_batches_org on remittance_batches(org_id, created_at);
        -- one line per payment component (or per clawed-back refund component) remitted
        create table remittance_items (
          id bigserial primary key,
          -- deferred: a batch's items are written first (their sum is the batch), then the batch
          batch_id uuid not null references remittance_batches(id) deferrable initially deferred,
          org_id text not null,
          payment_id uuid not null,
          component_id bigint references basket_components(id),
          refund_component_id bigint references refund_components(id),
          amount_cents bigint not null,
          returned boolean not null default false,
          check ((component_id is null) <> (refund_component_id is null))
        );
        create unique index remittance_items_component_once on remittance_items(component_id) where component_id is not null and not returned;
        create unique index remittance_items_refund_once on remittance_items(refund_component_id) where refund_component_id is not null and not returned;
        create index remittance_items_batch on remittance_items(batch_id);
        create table remittance_nettings (
          batch_id uuid not null references remittance_batches(id),
          invoice_id text not null,
          amount_cents bigint not null check (amount_cents > 0),
          primary key (batch_id, invoice_id)
        );
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table remittance_nettings; drop table remittance_items; drop table remittance_batches; drop table remittance_runs;`.execute(db);
    },
  },
  '004_remittance_items_bulk': {
    // remittance_items is written only by the remittance run's one INSERT … SELECT, from the components and batch ids
    // it has just read or made in the same transaction; a per-row foreign-key check (a trigger call and a row lock per
    // item) was half of the time of a run over 1,000,000 payments, so these three checks go. What guards the money
    // stays: the partial unique indexes (a component in one live item only) and the ledger's own rules.
    async up(db: Kysely<any>) {
      await sql`
        alter table remittance_items drop constraint if exists remittance_items_batch_id_fkey;
        alter table remittance_items drop constraint if exists remittance_items_component_id_fkey;
        alter table remittance_items drop constraint if exists remittance_items_refund_component_id_fkey;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        alter table remittance_items add constraint remittance_items_batch_id_fkey foreign key (batch_id) references remittance_batches(id) deferrable initially deferred;
        alter table remittance_items add constraint remittance_items_component_id_fkey foreign key (component_id) references basket_components(id);
        alter table remittance_items add constraint remittance_items_refund_component_id_fkey foreign key (refund_component_id) references refund_components(id);
      `.execute(db);
    },
  },
  '005_keep_what_items_name': {
    // what remittance items name is never deleted (decision 0009: the items have no per-row foreign keys); a
    // statement-level check costs nothing on the insert path
    async up(db: Kysely<any>) {
      await sql`
        create function payments_keep() returns trigger language plpgsql as $$
        begin
          raise exception 'payments: % rows are kept (% refused): remittance items name them', tg_table_name, tg_op using errcode = '42501';
        end $$;
        create trigger basket_components_keep before delete or truncate on basket_components for each statement execute function payments_keep();
        create trigger refund_components_keep before delete or truncate on refund_components for each statement execute function payments_keep();
        create trigger remittance_batches_keep before delete or truncate on remittance_batches for each statement execute function payments_keep();
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop trigger basket_components_keep on basket_components;
        drop trigger refund_components_keep on refund_components;
        drop trigger remittance_batches_keep on remittance_batches;
        drop function payments_keep();
      `.execute(db);
    },
  },
  '006_ledger_one_check_per_entry': {
    // The confirmation path's database work, per entry instead of per leg (issue 18's benchmark):
    // - the balance shards are updated by ONE statement-level trigger (transition table `new_legs`): the statement's
    //   legs are summed per account, the session's shards of those accounts locked in sorted order (pgledger) and
    //   updated by one UPDATE — instead of one trigger call and one UPDATE per leg;
    // - an entry's balance is checked ONCE at commit (the deferred trigger on journal_entries: ≥ 2 legs summing to
    //   zero); the deferred check per leg goes. It was needed only to catch legs added to an entry of an earlier
    //   transaction, which the statement-level trigger now refuses outright: a leg may be written only in the
    //   transaction that wrote its entry (journal_entries.written_txid, the writer's top-level transaction id);
    // - payments_confirm_payment(): a payment's confirmation in one call (one round trip, plans cached per session):
    //   mark it and its basket (only forward: created, pending or failed → succeeded, never a second success for a
    //   basket), and post its entry (debit where the money is, credit each component's account; posting key
    //   'payment:<id>', so a replay posts nothing); payments_confirm(): a provider's "payment succeeded" event, the
    //   same plus finding the payment by the provider's reference and recording the event with its outcome (a
    //   duplicate event id records nothing more) — one statement, so the webhook needs no BEGIN/COMMIT round trips.
    async up(db: Kysely<any>) {
      await sql`
        alter table journal_entries add column written_txid bigint;
        alter table journal_entries alter column written_txid set default txid_current();

        drop trigger journal_legs_balanced on journal_legs;
        drop function ledger_check_leg();
        -- the statement-level trigger checks what these foreign keys checked, once per statement instead of one
        -- lookup per leg and key: each leg's entry exists (and is this transaction's), each leg's account has its
        -- balance shard (whose own foreign key names the account)
        alter table journal_legs drop constraint journal_legs_entry_id_fkey;
        alter table journal_legs drop constraint journal_legs_account_id_fkey;
        -- the ledger's functions look rows up by key only: a plan cached while a table was small (a new database)
        -- must not stay a sequential scan as the table grows
        alter function ledger_check_entry_id(bigint) set enable_seqscan = off;
        drop trigger journal_legs_balance on journal_legs;
        drop function ledger_apply_leg();

        create function ledger_apply_legs() returns trigger language plpgsql set enable_seqscan = off as $$
        declare want integer; got integer; eid bigint; w bigint; me bigint := txid_current();
        begin
          -- every leg's entry exists and was written by this transaction (this also stands for the legs' foreign key
          -- to their entry)
          for eid in select distinct entry_id from new_legs loop
            select e.written_txid into w from journal_entries e where e.id = eid;
            if w is distinct from me then
              raise exception 'ledger: a leg can only be written in the transaction that writes its entry (entry %)', eid using errcode = '42501';
            end if;
          end loop;
          select count(distinct account_id) into want from new_legs;
          -- the session's shard of each account, locked in sorted order (concurrent postings queue, never deadlock)
          perform 1 from ledger_balances
            where account_id in (select account_id from new_legs) and shard = pg_backend_pid() % 16
            order by account_id for update;
          get diagnostics got = row_count;
          if got <> want then
            -- an account without its balance shards yet: make them (their foreign key refuses an account that does
            -- not exist), then lock them
            insert into ledger_balances (account_id, shard)
              select a.account_id, g from (select distinct account_id from new_legs) a cross join generate_series(0, 15) g
              on conflict do nothing;
            perform 1 from ledger_balances
              where account_id in (select account_id from new_legs) and shard = pg_backend_pid() % 16
              order by account_id for update;
          end if;
          update ledger_balances b set balance_cents = b.balance_cents + s.cents, postings = b.postings + s.n
            from (select account_id, sum(amount_cents) as cents, count(*) as n from new_legs group by account_id) s
            where b.account_id = s.account_id and b.shard = pg_backend_pid() % 16;
          get diagnostics got = row_count;
          if got <> want then
            raise exception 'ledger: % of % accounts have no balance shard', want - got, want using errcode = '23503';
          end if;
          return null;
        end $$;
        create trigger journal_legs_balance after insert on journal_legs
          referencing new table as new_legs for each statement execute function ledger_apply_legs();

        create function payments_confirm_payment(p_payment uuid, p_now timestamptz, p_day date) returns bigint
          language plpgsql set enable_seqscan = off as $$
        declare pay record; eid bigint; bid uuid;
        begin
          select p.basket_id into bid from payments p where p.id = p_payment;
          -- a basket is paid once: another payment of it that succeeded already leaves this one as it is
          update payments p set status = 'succeeded', confirmed_at = p_now, failure_code = null
            where p.id = p_payment and p.status in ('created','pending','failed')
              and not exists (select 1 from payments o where o.basket_id = bid and o.status = 'succeeded')
            returning p.id, p.basket_id, p.debit_account_id, p.amount_cents into pay;
          if not found then
            return null;
          end if;
          update payment_baskets set status = 'paid', paid_at = p_now where id = pay.basket_id and status = 'open';
          insert into journal_entries (event, event_ref, effective_date, memo, posting_key)
            values ('payment', pay.id::text, p_day, '', 'payment:' || pay.id::text)
            on conflict (posting_key) do nothing returning id into eid;
          if eid is not null then
            insert into journal_legs (entry_id, account_id, amount_cents)
            select eid, l.account_id, l.cents from (
              select pay.debit_account_id as account_id, pay.amount_cents as cents, 0::bigint as n
              union all
              select c.account_id, -c.amount_cents, c.id from basket_components c where c.basket_id = pay.basket_id
            ) l order by l.account_id, l.n;
          end if;
          return eid;
        end $$;

        create function payments_confirm(p_provider text, p_provider_ref text, p_event_id text, p_now timestamptz, p_day date)
          returns table (payment_id uuid, outcome text, duplicate boolean, entry_id bigint) language plpgsql set enable_seqscan = off as $$
        declare pid uuid; eid bigint; res text; dup boolean;
        begin
          select p.id into pid from payments p where p.provider = p_provider and p.provider_ref = p_provider_ref;
          if pid is null then
            return query select null::uuid, 'not_found'::text, false, null::bigint;
            return;
          end if;
          eid := payments_confirm_payment(pid, p_now, p_day);
          res := case when eid is null then 'unchanged' else 'confirmed' end;
          insert into provider_events (provider, event_id, type, payment_id, outcome)
            values (p_provider, p_event_id, 'payment_succeeded', pid, res) on conflict do nothing;
          dup := not found;
          return query select pid, res, dup, eid;
        end $$;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`
        drop function payments_confirm(text, text, text, timestamptz, date);
        drop function payments_confirm_payment(uuid, timestamptz, date);
        drop trigger journal_legs_balance on journal_legs;
        drop function ledger_apply_legs();
        alter function ledger_check_entry_id(bigint) reset enable_seqscan;
        alter table journal_legs add constraint journal_legs_entry_id_fkey foreign key (entry_id) references journal_entries(id);
        alter table journal_legs add constraint journal_legs_account_id_fkey foreign key (account_id) references ledger_accounts(id);
        create function ledger_check_leg() returns trigger language plpgsql as $$
        begin
          perform ledger_check_entry_id(new.entry_id);
          return null;
        end $$;
        create constraint trigger journal_legs_balanced after insert on journal_legs
          deferrable initially deferred for each row execute function ledger_check_leg();
        create function ledger_apply_leg() returns trigger language plpgsql as $$
        begin
          update ledger_balances set balance_cents = balance_cents + new.amount_cents, postings = postings + 1
            where account_id = new.account_id and shard = pg_backend_pid() % 16;
          if not found then
            raise exception 'ledger: account % has no balance shards', new.account_id using errcode = '23503';
          end if;
          return null;
        end $$;
        create trigger journal_legs_balance after insert on journal_legs
          for each row execute function ledger_apply_leg();
        alter table journal_entries drop column written_txid;
      `.execute(db);
    },
  },
  '007_confirm_many': {
    // Group commit of webhook confirmations (issue 18's benchmark; docs/decisions/0011): the server queues the
    // "payment succeeded" webhooks that arrive while a confirmation call is in flight and confirms them together by
    // ONE call of payments_confirm_many — one statement, one commit — answering each after that commit. It does for
    // every item what payments_confirm does for one, as if the items were applied one after another in their order:
    // - each item names a payment by its provider's reference; an unknown one is 'not_found' and records nothing;
    // - the batch's payments are locked in sorted order first (two batches that share a payment queue, never
    //   deadlock; the balance shards are locked after them, in sorted order, by the legs' trigger);
    // - a payment is confirmed only forward (created, pending or failed → succeeded), only if no other payment of its
    //   basket succeeded, and at most one payment per basket (the first item's) in a batch; the item that confirmed
    //   it is 'confirmed', any later item naming it 'unchanged';
    // - the entries are written by one INSERT (posting key 'payment:<id>', so a replay posts nothing) and all their
    //   legs by one INSERT: the legs' statement-level trigger locks and updates each account's shard ONCE per batch;
    //   each entry is still checked for balance at commit;
    // - each event id is recorded once with the outcome of its first item; a later item with that id, or an id
    //   recorded before, is a duplicate.
    // Any error fails the whole call (nothing written); the server then confirms that batch's items one by one.
    async up(db: Kysely<any>) {
      await sql`
        create function payments_confirm_many(p_items jsonb, p_now timestamptz, p_day date)
          returns table (idx integer, payment_id uuid, outcome text, duplicate boolean, entry_id bigint)
          language plpgsql set enable_seqscan = off as $$
        declare
          it_idx integer[]; it_pid uuid[]; it_prov text[]; it_ev text[];
          c_pid uuid[]; e_ids bigint[]; e_pids uuid[]; ins_prov text[]; ins_ev text[];
        begin
          -- the items in their order, each with its payment (null: unknown)
          select array_agg(i.idx order by i.idx), array_agg(p.id order by i.idx), array_agg(i.provider order by i.idx), array_agg(i.ev order by i.idx)
            into it_idx, it_pid, it_prov, it_ev
            from jsonb_to_recordset(p_items) as i(idx integer, provider text, ref text, ev text)
            left join lateral (select x.id from payments x where x.provider = i.provider and x.provider_ref = i.ref) p on true;
          -- lock the batch's payments in sorted order
          perform 1 from payments x where x.id = any(it_pid) order by x.id for update;
          -- those this batch confirms: in progress, the first of each basket in the batch, none of the basket succeeded
          select array_agg(f.id) into c_pid from (
            select distinct on (x.basket_id) x.id
              from payments x
              join (select t.pid, min(t.idx) as first from unnest(it_pid, it_idx) t(pid, idx) where t.pid is not null group by t.pid) t on t.pid = x.id
              where x.status in ('created','pending','failed')
                and not exists (select 1 from payments o where o.basket_id = x.basket_id and o.status = 'succeeded')
              order by x.basket_id, t.first
          ) f;
          if c_pid is not null then
            update payments x set status = 'succeeded', confirmed_at = p_now, failure_code = null where x.id = any(c_pid);
            update payment_baskets b set status = 'paid', paid_at = p_now
              from payments x where x.id = any(c_pid) and b.id = x.basket_id and b.status = 'open';
            with e as (
              insert into journal_entries (event, event_ref, effective_date, memo, posting_key)
                select 'payment', c::text, p_day, '', 'payment:' || c::text from unnest(c_pid) c order by c
                on conflict (posting_key) do nothing returning id, event_ref
            )
            select array_agg(e.id), array_agg(e.event_ref::uuid) into e_ids, e_pids from e;
          end if;
          if e_ids is not null then
            -- all the legs in one statement: the balance trigger runs once for the batch
            insert into journal_legs (entry_id, account_id, amount_cents)
            select l.eid, l.account_id, l.cents from (
              select e.eid, x.debit_account_id as account_id, x.amount_cents as cents, 0::bigint as n
                from unnest(e_ids, e_pids) e(eid, pid) join payments x on x.id = e.pid
              union all
              select e.eid, c.account_id, -c.amount_cents, c.id
                from unnest(e_ids, e_pids) e(eid, pid) join payments x on x.id = e.pid join basket_components c on c.basket_id = x.basket_id
            ) l order by l.eid, l.account_id, l.n;
          end if;
          -- each event recorded once, with the outcome of its first item
          with it as (select * from unnest(it_idx, it_pid, it_prov, it_ev) t(idx, pid, prov, ev) where t.pid is not null),
          fe as (select distinct on (it.prov, it.ev) it.idx, it.pid, it.prov, it.ev from it order by it.prov, it.ev, it.idx),
          fp as (select it.pid, min(it.idx) as first from it group by it.pid),
          ins as (
            insert into provider_events (provider, event_id, type, payment_id, outcome)
            select fe.prov, fe.ev, 'payment_succeeded', fe.pid,
                   case when fp.first = fe.idx and fe.pid = any(coalesce(e_pids, '{}')) then 'confirmed' else 'unchanged' end
              from fe join fp on fp.pid = fe.pid order by fe.prov, fe.ev
              on conflict do nothing returning provider, event_id
          )
          select array_agg(ins.provider), array_agg(ins.event_id) into ins_prov, ins_ev from ins;
          return query
            with it as (select * from unnest(it_idx, it_pid, it_prov, it_ev) t(idx, pid, prov, ev)),
            fe as (select distinct on (it.prov, it.ev) it.idx, it.prov, it.ev from it where it.pid is not null order by it.prov, it.ev, it.idx),
            fp as (select it.pid, min(it.idx) as first from it where it.pid is not null group by it.pid),
            ent as (select * from unnest(e_ids, e_pids) e(eid, pid)),
            ins as (select * from unnest(ins_prov, ins_ev) n(prov, ev))
            select it.idx, it.pid,
                   case when it.pid is null then 'not_found' when fp.first = it.idx and ent.eid is not null then 'confirmed' else 'unchanged' end,
                   it.pid is not null and not (fe.idx is not distinct from it.idx and exists (select 1 from ins where ins.prov = it.prov and ins.ev = it.ev)),
                   case when fp.first = it.idx then ent.eid end
              from it
              left join fp on fp.pid = it.pid
              left join fe on fe.prov = it.prov and fe.ev = it.ev
              left join ent on ent.pid = it.pid
              order by it.idx;
        end $$;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop function payments_confirm_many(jsonb, timestamptz, date)`.execute(db);
    },
  },
};
