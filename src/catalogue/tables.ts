/**
 * Catalogue tables (aligned with CPSV-AP 3.2.0: PublicService, PublicOrganisation, Channel, Requirement/Evidence,
 * Cost, Output, ServiceStandard (our extension, mapped to cv:hasQualityStandard-like fields), Event (life / business)).
 */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type GovernmentLevel = 'federal' | 'provincial' | 'municipal' | 'indigenous' | 'ngo';
export type ServiceStatus = 'draft' | 'in_review' | 'published' | 'withdrawn';
export type ChannelType = 'online' | 'phone' | 'in_person' | 'mail' | 'email' | 'fax' | 'kiosk';
export type CollaborationModel = 'independent' | 'side_by_side' | 'one_office_two_counters' | 'one_office_one_counter';

export interface OrganisationsTable {
  id: string; // stable slug, e.g. 'esdc-edsc' for GC organisations
  name_en: string;
  name_fr: string;
  acronym_en: string | null;
  acronym_fr: string | null;
  level: GovernmentLevel;
  jurisdiction: string; // ISO 3166-2 style: 'CA', 'CA-ON', 'CA-ON-ottawa'
  parent_id: string | null;
  logo_url: string | null;
  website_en: string | null;
  website_fr: string | null;
  phone: string | null;
  email: string | null;
  is_demo: ColumnType<boolean, boolean | undefined, boolean>;
  source: string; // 'gc-inventory' | 'demo' | 'editor' | 'cpsv-import'
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ServicesTable {
  id: string; // 'gc-<service_id>' for the GC inventory
  source: string;
  identifier: string; // source identifier (GC service_id)
  owner_org_id: string; // competent authority
  title_en: string;
  title_fr: string;
  description_en: string;
  description_fr: string;
  keywords_en: ColumnType<string[], string[] | undefined, string[]>;
  keywords_fr: ColumnType<string[], string[] | undefined, string[]>;
  service_type: string | null; // GC code (APIR, INFO, ...)
  audiences: ColumnType<string[], string[] | undefined, string[]>; // PERSON, ECONOM, NGO, ...
  thematic_areas: ColumnType<string[], string[] | undefined, string[]>;
  program_id: string | null;
  program_name_en: string | null;
  program_name_fr: string | null;
  fee_applies: boolean | null;
  online_status: Json<Record<string, 'Y' | 'N' | 'NA' | null>>; // os_* flags
  url_en: string | null;
  url_fr: string | null;
  fiscal_year: string | null;
  last_review_fy: string | null;
  status: ServiceStatus;
  version: ColumnType<number, number | undefined, number>;
  content_hash: string | null;
  is_demo: ColumnType<boolean, boolean | undefined, boolean>;
  /** Information bank: internal notes for agents (never shown publicly). */
  agent_notes_en: string | null;
  agent_notes_fr: string | null;
  /** Service guarantee: result within N days or the fee back (null = no guarantee). */
  guarantee_days: number | null;
  reviewed_at: Timestamp | null;
  published_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ServiceDeliveringOrgsTable {
  service_id: string;
  org_id: string;
}

export interface ServiceChannelsTable {
  id: Generated<number>;
  service_id: string;
  channel: ChannelType;
  url_en: string | null;
  url_fr: string | null;
  phone: string | null;
  email: string | null;
  notes_en: string | null;
  notes_fr: string | null;
}

/** Volumes by channel per fiscal year. value is NULL when missing_reason is 'NA' (not applicable) or 'ND' (no data). */
export interface ServiceVolumesTable {
  service_id: string;
  fiscal_year: string;
  metric: string; // applications_online, applications_in_person, phone_enquiries, website_visits, ...
  value: number | null;
  missing_reason: 'NA' | 'ND' | null;
}

export interface ServiceStandardsTable {
  id: string; // 'gc-<service_standard_id>-<service_id>-<fiscal_year>'
  source_id: string;
  service_id: string;
  fiscal_year: string;
  text_en: string;
  text_fr: string;
  type: string | null; // TML, ACS, ACY, OTH
  channel: string | null; // ONL, TEL, ...
  target: number | null; // 0..1
  volume_meeting_target: number | null;
  total_volume: number | null;
  performance: number | null; // 0..1
  target_met: boolean | null;
  missing: Json<Record<string, 'NA' | 'ND'>>; // fields that were NA / ND in the source
  /** Parsed from the text when it states a duration: e.g. 15 business_days. */
  duration_value: number | null;
  duration_unit: 'seconds' | 'minutes' | 'hours' | 'days' | 'business_days' | 'weeks' | 'months' | null;
  standard_url_en: string | null;
  standard_url_fr: string | null;
  results_url_en: string | null;
  results_url_fr: string | null;
}

export interface ServiceRequirementsTable {
  id: Generated<number>;
  service_id: string;
  position: number;
  name_en: string;
  name_fr: string;
  description_en: string | null;
  description_fr: string | null;
}

export interface ServiceCostsTable {
  id: Generated<number>;
  service_id: string;
  amount_cents: number;
  currency: string;
  description_en: string;
  description_fr: string;
}

export interface ServiceOutputsTable {
  id: Generated<number>;
  service_id: string;
  name_en: string;
  name_fr: string;
}

export interface ServiceVersionsTable {
  id: Generated<number>;
  service_id: string;
  version: number;
  status: ServiceStatus;
  snapshot: Json<Record<string, unknown>>;
  changed_by: string | null;
  comment: string | null;
  created_at: Generated<Date>;
}

export interface EventsTable {
  id: string; // slug: 'having-a-baby'
  kind: 'life' | 'business';
  title_en: string;
  title_fr: string;
  description_en: string;
  description_fr: string;
  position: number;
}

export interface EventStepsTable {
  id: Generated<number>;
  event_id: string;
  position: number;
  title_en: string;
  title_fr: string;
  description_en: string | null;
  description_fr: string | null;
  service_id: string | null;
  org_id: string | null;
}

export interface OfficesTable {
  id: string;
  name_en: string;
  name_fr: string;
  collaboration_model: CollaborationModel;
  address: string;
  city: string;
  province: string;
  postal_code: string;
  latitude: number;
  longitude: number;
  timezone: string;
  phone: string | null;
  is_demo: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Generated<Date>;
}

export interface OfficeOrganisationsTable {
  office_id: string;
  org_id: string;
}

export interface OfficeHoursTable {
  office_id: string;
  weekday: number; // 0 = Sunday .. 6 = Saturday
  opens: string; // 'HH:MM'
  closes: string;
}

export interface OfficeHoursExceptionsTable {
  office_id: string;
  date: string; // 'YYYY-MM-DD'
  closed: boolean;
  opens: string | null;
  closes: string | null;
  reason_en: string | null;
  reason_fr: string | null;
}

export interface OfficeServicesTable {
  office_id: string;
  service_id: string;
}

/** Forward sortation areas (first 3 characters of a Canadian postal code) with a centroid, for the office locator. */
export interface PostalAreasTable {
  fsa: string;
  latitude: number;
  longitude: number;
  place: string;
}

export interface CatalogueTables {
  organisations: OrganisationsTable;
  services: ServicesTable;
  service_delivering_orgs: ServiceDeliveringOrgsTable;
  service_channels: ServiceChannelsTable;
  service_volumes: ServiceVolumesTable;
  service_standards: ServiceStandardsTable;
  service_requirements: ServiceRequirementsTable;
  service_costs: ServiceCostsTable;
  service_outputs: ServiceOutputsTable;
  service_versions: ServiceVersionsTable;
  events: EventsTable;
  event_steps: EventStepsTable;
  offices: OfficesTable;
  office_organisations: OfficeOrganisationsTable;
  office_hours: OfficeHoursTable;
  office_hours_exceptions: OfficeHoursExceptionsTable;
  office_services: OfficeServicesTable;
  postal_areas: PostalAreasTable;
}
