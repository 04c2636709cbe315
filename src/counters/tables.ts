/**
 * Tables of the counters capability: counters (owned by an organisation or shared), agent profiles (skills,
 * languages, loan to another organisation), shifts, walk-in tickets with their per-service visits and event log,
 * appointment slots and appointments.
 */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type TextArray = ColumnType<string[], string[] | undefined, string[]>;

export type TicketStatus = 'waiting' | 'called' | 'serving' | 'held' | 'done' | 'no_show' | 'abandoned';
export type PriorityNeed = 'none' | 'accessibility' | 'appointment';
export type AppointmentStatus = 'booked' | 'cancelled' | 'checked_in' | 'no_show';
export type BookingChannel = 'online' | 'phone' | 'reception';

export interface CountersTable {
  id: Generated<string>;
  office_id: string;
  label: string; // shown on the display board: '3', 'B'
  /** Owning organisation; null = shared counter (serves every organisation of the office). */
  org_id: string | null;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  /** The agent currently open at this counter (null = closed). */
  agent_id: string | null;
  opened_at: NullableTimestamp;
  created_at: Generated<Date>;
}

export interface AgentProfilesTable {
  staff_id: string;
  /** Service ids the agent is trained for; empty = every service of the organisations they serve. */
  skills: TextArray;
  languages: TextArray; // 'en', 'fr', ...
  updated_at: Generated<Date>;
}

/** Borrowed counter: at this office, the agent is lent to this organisation and serves its clients (one loan per
 * person and office; set by a manager of the agent's own organisation, never by the agent). */
export interface AgentLoansTable {
  staff_id: string;
  office_id: string;
  lent_to_org_id: string;
  lent_by: string | null;
  created_at: Generated<Date>;
}

export interface AgentShiftsTable {
  id: Generated<string>;
  office_id: string;
  staff_id: string;
  counter_id: string | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
}

export interface TicketsTable {
  id: Generated<string>;
  office_id: string;
  day: string; // office-local date 'YYYY-MM-DD'
  seq: number; // per office and day
  number: string; // 'A012'
  service_id: string; // the service being queued for now
  org_id: string; // the organisation owning that service
  /** Services still to be seen after the current one (several services in one visit). */
  pending_services: TextArray;
  language: string;
  priority: PriorityNeed;
  appointment_id: string | null;
  appointment_at: NullableTimestamp;
  client_id: string | null;
  case_id: string | null;
  email: string | null;
  phone: string | null;
  status: TicketStatus;
  /** Place in line: kept across transfers and recalls. */
  queued_at: Timestamp;
  /** Since when the client waits for the current service (measurements). */
  waiting_since: Timestamp;
  arrived_at: Timestamp;
  called_at: NullableTimestamp;
  served_at: NullableTimestamp;
  done_at: NullableTimestamp;
  abandoned_at: NullableTimestamp;
  counter_id: string | null;
  agent_id: string | null;
  /** Transfer to one counter: only that counter may call the ticket. */
  target_counter_id: string | null;
  recalls: ColumnType<number, number | undefined, number>;
  near_notified: ColumnType<boolean, boolean | undefined, boolean>;
  result: string | null;
  channel: string; // 'greeter' | 'kiosk' | 'appointment' | 'api'
  updated_at: Timestamp;
}

/** One service seen during a visit: the measurement unit (times waited and served, result, case). */
export interface TicketVisitsTable {
  id: Generated<string>;
  ticket_id: string;
  office_id: string;
  service_id: string;
  org_id: string;
  counter_id: string | null;
  agent_id: string | null;
  queued_at: Timestamp;
  called_at: NullableTimestamp;
  served_at: NullableTimestamp;
  done_at: NullableTimestamp;
  outcome: string; // served | transferred | no_show | abandoned
  result: string | null;
  case_id: string | null;
  wait_seconds: number | null;
  service_seconds: number | null;
}

export interface TicketEventsTable {
  id: Generated<number>;
  ticket_id: string;
  office_id: string;
  kind: string; // created, called, recalled, serving, held, transferred, done, no_show, abandoned, near_notified
  at: Generated<Date>;
  counter_id: string | null;
  agent_id: string | null;
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface TicketSequencesTable {
  office_id: string;
  day: string;
  last_seq: number;
}

export interface AppointmentSlotsTable {
  office_id: string;
  starts_at: Timestamp;
  booked: number;
}

export interface AppointmentsTable {
  id: Generated<string>;
  reference: string;
  office_id: string;
  service_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  name: string;
  email: string | null;
  phone: string | null;
  language: string;
  accessibility: ColumnType<boolean, boolean | undefined, boolean>;
  channel: BookingChannel;
  status: AppointmentStatus;
  client_id: string | null;
  ticket_id: string | null;
  booked_by: string | null;
  reminder_sent_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface CountersTables {
  counters: CountersTable;
  agent_profiles: AgentProfilesTable;
  agent_loans: AgentLoansTable;
  agent_shifts: AgentShiftsTable;
  tickets: TicketsTable;
  ticket_visits: TicketVisitsTable;
  ticket_events: TicketEventsTable;
  ticket_sequences: TicketSequencesTable;
  appointment_slots: AppointmentSlotsTable;
  appointments: AppointmentsTable;
}
