import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of the counters capability, by name (ordered alphabetically within the capability). */
export const migrations: Record<string, Migration> = {
  '001_counters_queue_appointments': {
    async up(db: Kysely<any>) {
      await sql`
        create table counters (
          id uuid primary key default gen_random_uuid(),
          office_id text not null references offices(id) on delete cascade,
          label text not null,
          org_id text references organisations(id),
          active boolean not null default true,
          agent_id text references staff_users(id),
          opened_at timestamptz,
          created_at timestamptz not null default now(),
          unique (office_id, label)
        );
        create unique index counters_one_agent on counters(agent_id) where agent_id is not null;
        create table agent_profiles (
          staff_id text primary key references staff_users(id) on delete cascade,
          skills text[] not null default '{}',
          languages text[] not null default '{en,fr}',
          lent_to_org_id text references organisations(id),
          updated_at timestamptz not null default now()
        );
        create table agent_shifts (
          id uuid primary key default gen_random_uuid(),
          office_id text not null references offices(id) on delete cascade,
          staff_id text not null references staff_users(id) on delete cascade,
          counter_id uuid references counters(id) on delete set null,
          starts_at timestamptz not null,
          ends_at timestamptz not null,
          check (ends_at > starts_at)
        );
        create index agent_shifts_office on agent_shifts(office_id, starts_at);
        create table ticket_sequences (
          office_id text not null references offices(id) on delete cascade,
          day date not null,
          last_seq integer not null,
          primary key (office_id, day)
        );
        create table tickets (
          id uuid primary key default gen_random_uuid(),
          office_id text not null references offices(id) on delete cascade,
          day date not null,
          seq integer not null,
          number text not null,
          service_id text not null references services(id),
          org_id text not null references organisations(id),
          pending_services text[] not null default '{}',
          language text not null,
          priority text not null check (priority in ('none','accessibility','appointment')),
          appointment_id uuid,
          appointment_at timestamptz,
          client_id text,
          case_id text,
          email text,
          phone text,
          status text not null check (status in ('waiting','called','serving','held','done','no_show','abandoned')),
          queued_at timestamptz not null,
          waiting_since timestamptz not null,
          arrived_at timestamptz not null,
          called_at timestamptz,
          served_at timestamptz,
          done_at timestamptz,
          abandoned_at timestamptz,
          counter_id uuid references counters(id) on delete set null,
          agent_id text,
          target_counter_id uuid references counters(id) on delete set null,
          recalls integer not null default 0,
          near_notified boolean not null default false,
          result text,
          channel text not null,
          updated_at timestamptz not null default now(),
          unique (office_id, day, seq)
        );
        create index tickets_waiting on tickets(office_id, queued_at) where status = 'waiting';
        create index tickets_office_day on tickets(office_id, day, status);
        create index tickets_at_counter on tickets(counter_id) where status in ('called','serving','held');
        create table ticket_visits (
          id uuid primary key default gen_random_uuid(),
          ticket_id uuid not null references tickets(id) on delete cascade,
          office_id text not null,
          service_id text not null,
          org_id text not null,
          counter_id uuid,
          agent_id text,
          queued_at timestamptz not null,
          called_at timestamptz,
          served_at timestamptz,
          done_at timestamptz,
          outcome text not null,
          result text,
          case_id text,
          wait_seconds double precision,
          service_seconds double precision
        );
        create index ticket_visits_office on ticket_visits(office_id, queued_at);
        create index ticket_visits_ticket on ticket_visits(ticket_id);
        create table ticket_events (
          id bigserial primary key,
          ticket_id uuid not null references tickets(id) on delete cascade,
          office_id text not null,
          kind text not null,
          at timestamptz not null default now(),
          counter_id uuid,
          agent_id text,
          detail jsonb not null default '{}'
        );
        create index ticket_events_ticket on ticket_events(ticket_id);
        create index ticket_events_office_at on ticket_events(office_id, at);
        create table appointment_slots (
          office_id text not null references offices(id) on delete cascade,
          starts_at timestamptz not null,
          booked integer not null default 0 check (booked >= 0),
          primary key (office_id, starts_at)
        );
        create table appointments (
          id uuid primary key default gen_random_uuid(),
          reference text not null unique,
          office_id text not null references offices(id) on delete cascade,
          service_id text not null references services(id),
          starts_at timestamptz not null,
          ends_at timestamptz not null,
          name text not null,
          email text,
          phone text,
          language text not null,
          accessibility boolean not null default false,
          channel text not null check (channel in ('online','phone','reception')),
          status text not null check (status in ('booked','cancelled','checked_in','no_show')),
          client_id text,
          ticket_id uuid references tickets(id) on delete set null,
          booked_by text,
          reminder_sent_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        );
        create index appointments_office_start on appointments(office_id, starts_at);
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      for (const t of ['appointments', 'appointment_slots', 'ticket_events', 'ticket_visits', 'tickets', 'ticket_sequences', 'agent_shifts', 'agent_profiles', 'counters']) {
        await sql`drop table if exists ${sql.table(t)} cascade`.execute(db);
      }
    },
  },
  '002_one_current_ticket_per_counter': {
    // a counter serves one client at a time, guaranteed by the database (call next runs without a long transaction)
    async up(db: Kysely<any>) {
      await sql`create unique index tickets_one_current_per_counter on tickets(counter_id) where status in ('called', 'serving')`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index if exists tickets_one_current_per_counter`.execute(db);
    },
  },
  '003_counter_labels_unique_while_active': {
    // A removed counter is kept (inactive) for the tickets it served; its label may be given to a new counter.
    async up(db: Kysely<any>) {
      await sql`alter table counters drop constraint counters_office_id_label_key`.execute(db);
      await sql`create unique index counters_active_label on counters(office_id, label) where active`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index if exists counters_active_label`.execute(db);
      await sql`alter table counters add constraint counters_office_id_label_key unique (office_id, label)`.execute(db);
    },
  },
  '004_loans_per_office': {
    // A loan lends an agent to an organisation AT ONE OFFICE (issue 14): a loan kept per person opened every office
    // hosting that organisation. Existing loans are kept only at offices that host the lent-to organisation and where
    // the agent already works (a shift or a counter); elsewhere they are dropped.
    async up(db: Kysely<any>) {
      await sql`
        create table agent_loans (
          staff_id text not null references staff_users(id) on delete cascade,
          office_id text not null references offices(id) on delete cascade,
          lent_to_org_id text not null references organisations(id),
          lent_by text references staff_users(id),
          created_at timestamptz not null default now(),
          primary key (staff_id, office_id)
        );
        insert into agent_loans (staff_id, office_id, lent_to_org_id)
        select distinct p.staff_id, oo.office_id, p.lent_to_org_id
        from agent_profiles p
        join office_organisations oo on oo.org_id = p.lent_to_org_id
        where p.lent_to_org_id is not null
          and (exists (select 1 from agent_shifts s where s.staff_id = p.staff_id and s.office_id = oo.office_id)
            or exists (select 1 from counters c where c.agent_id = p.staff_id and c.office_id = oo.office_id));
        alter table agent_profiles drop column lent_to_org_id;
      `.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table agent_profiles add column lent_to_org_id text references organisations(id)`.execute(db);
      await sql`drop table if exists agent_loans`.execute(db);
    },
  },
  '005_fewer_ticket_indexes': {
    // Issue 20: every index of `tickets` is written at each change of a ticket's status (a new ticket, called, done:
    // three writes per ticket and index). Over a bench:queue day (pg_stat_user_indexes) tickets_office_day and
    // tickets_at_counter were never read. The queries that could use them read other indexes: the board's called
    // tickets go through the office's counters and tickets_one_current_per_counter, the day's list through the unique
    // (office_id, day, seq). An agent's held tickets (the counter page) get a partial index written only when a
    // ticket is held. Writes per ticket: 12 index entries before, 8 after.
    async up(db: Kysely<any>) {
      await sql`drop index if exists tickets_office_day`.execute(db);
      await sql`drop index if exists tickets_at_counter`.execute(db);
      await sql`create index if not exists tickets_held on tickets(agent_id) where status = 'held'`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index if exists tickets_held`.execute(db);
      await sql`create index if not exists tickets_office_day on tickets(office_id, day, status)`.execute(db);
      await sql`create index if not exists tickets_at_counter on tickets(counter_id) where status in ('called','serving','held')`.execute(db);
    },
  },
  '006_no_unread_event_index': {
    // Issue 20 (twelfth session): the ticket log (ticket_events) is written at every step of a ticket (created, called,
    // done: three rows a ticket) and read by nothing in Guichet by office and time: ticket_events_office_at had no scan
    // over a bench:queue day, and no query of any capability filters ticket_events by office. Its primary key and
    // ticket_events_ticket stay (the latter serves the foreign key's cascade and a ticket's own history).
    async up(db: Kysely<any>) {
      await sql`drop index if exists ticket_events_office_at`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`create index if not exists ticket_events_office_at on ticket_events(office_id, at)`.execute(db);
    },
  },
  '007_waiting_index_in_call_order': {
    // Issue 20 (fourteenth session): call-next takes the first eligible waiting ticket in the order (queued_at, id),
    // but tickets_waiting held (office_id, queued_at) only, so every call read ALL the office's waiting tickets and
    // sorted them before claiming the first (twice: the claim and the "your turn is near" look-ahead), and its
    // "does a priority or a transfer wait?" check read them all a third time. With id in the index the claim walks the
    // line in order and stops at the first ticket it may lock; the check reads a partial index that holds only the
    // waiting tickets with a priority or a target counter (usually none: a usual ticket writes no entry into it).
    async up(db: Kysely<any>) {
      await sql`drop index if exists tickets_waiting`.execute(db);
      await sql`create index if not exists tickets_waiting on tickets(office_id, queued_at, id) where status = 'waiting'`.execute(db);
      await sql`create index if not exists tickets_waiting_special on tickets(office_id) where status = 'waiting' and (priority <> 'none' or target_counter_id is not null)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index if exists tickets_waiting_special`.execute(db);
      await sql`drop index if exists tickets_waiting`.execute(db);
      await sql`create index if not exists tickets_waiting on tickets(office_id, queued_at) where status = 'waiting'`.execute(db);
    },
  },
  '008_time_ordered_ticket_ids': {
    // Issue 20 (fourteenth session): tickets and their visits are written all day; with random ids (v4) each new row's
    // key lands on a random page of its primary key (and of the ticket_id indexes of ticket_events and ticket_visits),
    // which after each checkpoint costs a full-page image in the write-ahead log. Time-ordered ids
    // (uuid_time_ordered(), platform migration 004) put them at the end of those indexes. Existing ids stay as they are.
    async up(db: Kysely<any>) {
      await sql`alter table tickets alter column id set default uuid_time_ordered()`.execute(db);
      await sql`alter table ticket_visits alter column id set default uuid_time_ordered()`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`alter table tickets alter column id set default gen_random_uuid()`.execute(db);
      await sql`alter table ticket_visits alter column id set default gen_random_uuid()`.execute(db);
    },
  },
};
