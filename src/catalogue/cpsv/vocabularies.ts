/**
 * Namespaces, the inline JSON-LD context and the controlled vocabularies (SKOS concept schemes) used by the
 * CPSV-AP 3.2.0 export and import. Every code the catalogue stores (channel type, audience, service type, thematic
 * area, level of government, ...) is published as a skos:Concept with English and French labels, a skos:notation
 * holding the code (what the import reads back) and skos:inScheme.
 */
import { PROVINCES } from '../../i18n/provinces';

export const NS = {
  cpsv: 'http://purl.org/vocab/cpsv#',
  cv: 'http://data.europa.eu/m8g/',
  dct: 'http://purl.org/dc/terms/',
  dcat: 'http://www.w3.org/ns/dcat#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  foaf: 'http://xmlns.com/foaf/0.1/',
  org: 'http://www.w3.org/ns/org#',
  adms: 'http://www.w3.org/ns/adms#',
  locn: 'http://www.w3.org/ns/locn#',
  owl: 'http://www.w3.org/2002/07/owl#',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  /** Guichet's extension namespace, for what CPSV-AP 3.2.0 has no property for (see docs/cpsv-ap.md). */
  gch: 'https://w3id.org/guichet/ns#',
} as const;

/** The inline context of the export: prefixes only, every value carries its own @language / @type / @id. */
export const CONTEXT: Record<string, string> = { ...NS };

/** EU Publications Office authority tables (used as-is: they are the CPSV-AP recommended vocabularies). */
export const EU_LANGUAGE = { en: 'http://publications.europa.eu/resource/authority/language/ENG', fr: 'http://publications.europa.eu/resource/authority/language/FRA' } as const;
export const EU_CURRENCY_SCHEME = 'http://publications.europa.eu/resource/authority/currency';
export const EU_COUNTRY_CANADA = 'http://publications.europa.eu/resource/authority/country/CAN';

export type Label = { en: string; fr: string };

export interface Scheme {
  id: string;
  label: Label;
  codes: Record<string, Label>;
}

export const SCHEMES: Record<string, Scheme> = {
  'channel-type': {
    id: 'channel-type',
    label: { en: 'Delivery channel types', fr: 'Types de modes de prestation' },
    codes: {
      online: { en: 'Online', fr: 'En ligne' },
      phone: { en: 'Telephone', fr: 'Téléphone' },
      in_person: { en: 'In person', fr: 'En personne' },
      mail: { en: 'Mail', fr: 'Courrier' },
      email: { en: 'Email', fr: 'Courriel' },
      fax: { en: 'Fax', fr: 'Télécopieur' },
      kiosk: { en: 'Kiosk', fr: 'Borne libre-service' },
    },
  },
  audience: {
    id: 'audience',
    label: { en: 'Client target groups', fr: 'Groupes de clients cibles' },
    codes: {
      PERSON: { en: 'Persons', fr: 'Particuliers' },
      ECONOM: { en: 'Economic segments (businesses)', fr: 'Segments économiques (entreprises)' },
      FOR: { en: 'Foreign entities', fr: 'Entités étrangères' },
      INTERN_GOV: { en: 'Internal to government', fr: 'Interne au gouvernement' },
      NGO: { en: 'Non-profit institutions and organizations', fr: 'Institutions et organismes sans but lucratif' },
      PTC: { en: 'Provinces, territories or communities', fr: 'Provinces, territoires et collectivités' },
    },
  },
  'service-type': {
    id: 'service-type',
    label: { en: 'Service types (Guideline on Service and Digital)', fr: 'Types de services (Ligne directrice sur les services et le numérique)' },
    codes: {
      APIR: { en: 'Agreements, permissions, inspections, rulings', fr: 'Accords, autorisations, inspections, décisions' },
      CER: { en: 'Care, education, recreation', fr: 'Soins, éducation, loisirs' },
      GNC: { en: 'Grants and contributions', fr: 'Subventions et contributions' },
      INFO: { en: 'Information', fr: 'Informations' },
      LRP: { en: 'Legislation, regulation, policy', fr: 'Législation, réglementation, politique' },
      PPI: { en: 'Penalties, protection, intervention', fr: 'Pénalités, protection, interventions' },
      REG_VOL: { en: 'High-volume regulatory transactions', fr: 'Opérations réglementaires à demande élevée' },
      RES: { en: 'Resources', fr: 'Ressources' },
    },
  },
  'thematic-area': {
    id: 'thematic-area',
    label: { en: 'Thematic areas', fr: 'Domaines thématiques' },
    codes: {
      health: { en: 'Health', fr: 'Santé' },
      transport: { en: 'Transport', fr: 'Transports' },
      environment: { en: 'Environment and natural resources', fr: 'Environnement et ressources naturelles' },
      'civil-status': { en: 'Civil status and vital records', fr: 'État civil' },
      family: { en: 'Family', fr: 'Famille' },
      business: { en: 'Business', fr: 'Entreprises' },
      municipal: { en: 'Municipal services', fr: 'Services municipaux' },
      tax: { en: 'Taxes', fr: 'Impôts et taxes' },
      indigenous: { en: 'Indigenous peoples', fr: 'Peuples autochtones' },
      social: { en: 'Social support', fr: 'Soutien social' },
    },
  },
  'service-status': {
    id: 'service-status',
    label: { en: 'Service description status', fr: 'Statut de la description du service' },
    codes: {
      draft: { en: 'Draft', fr: 'Brouillon' },
      in_review: { en: 'In review', fr: 'En révision' },
      published: { en: 'Published', fr: 'Publié' },
      withdrawn: { en: 'Withdrawn', fr: 'Retiré' },
    },
  },
  'government-level': {
    id: 'government-level',
    label: { en: 'Levels of government', fr: 'Ordres de gouvernement' },
    codes: {
      federal: { en: 'Federal', fr: 'Fédéral' },
      provincial: { en: 'Provincial or territorial', fr: 'Provincial ou territorial' },
      municipal: { en: 'Municipal', fr: 'Municipal' },
      indigenous: { en: 'Indigenous government', fr: 'Gouvernement autochtone' },
      ngo: { en: 'Non-governmental partner', fr: 'Partenaire non gouvernemental' },
    },
  },
  'event-type': {
    id: 'event-type',
    label: { en: 'Event types', fr: 'Types d’événements' },
    codes: {
      life: { en: 'Life event', fr: 'Événement de la vie' },
      business: { en: 'Business event', fr: 'Événement d’entreprise' },
    },
  },
  'participation-role': {
    id: 'participation-role',
    label: { en: 'Roles in the delivery of a service', fr: 'Rôles dans la prestation d’un service' },
    codes: {
      'delivering-organisation': { en: 'Delivering organisation', fr: 'Organisation qui offre le service' },
    },
  },
  'standard-type': {
    id: 'standard-type',
    label: { en: 'Service standard types', fr: 'Types de normes de service' },
    codes: {
      TML: { en: 'Timeliness', fr: 'Délai' },
      ACS: { en: 'Access', fr: 'Accès' },
      ACY: { en: 'Accuracy', fr: 'Exactitude' },
      OTH: { en: 'Other', fr: 'Autre' },
    },
  },
  'standard-channel': {
    id: 'standard-channel',
    label: { en: 'Service standard channels', fr: 'Modes visés par les normes de service' },
    codes: {
      ONL: { en: 'Online', fr: 'En ligne' },
      TEL: { en: 'Telephone', fr: 'Téléphone' },
      PERSON: { en: 'In person', fr: 'En personne' },
      POST: { en: 'Postal mail', fr: 'Courrier postal' },
      EML: { en: 'Email', fr: 'Courriel' },
      FAX: { en: 'Fax', fr: 'Télécopieur' },
      OTH: { en: 'Other channel', fr: 'Autre mode' },
    },
  },
};

export const CURRENCY_LABELS: Record<string, Label> = {
  CAD: { en: 'Canadian dollar', fr: 'Dollar canadien' },
  USD: { en: 'US dollar', fr: 'Dollar américain' },
  EUR: { en: 'Euro', fr: 'Euro' },
};


/** 'CA' -> Canada, 'CA-ON' -> Ontario, 'CA-ON-ottawa' -> Ottawa (Ontario). */
export function jurisdictionLabel(code: string): Label {
  const parts = code.split('-');
  if (parts.length === 1) return parts[0] === 'CA' ? { en: 'Canada', fr: 'Canada' } : { en: code, fr: code };
  const prov = PROVINCES[parts[1]] ?? { en: parts[1], fr: parts[1] };
  if (parts.length === 2) return prov;
  const local = parts
    .slice(2)
    .join('-')
    .split(/[-_]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
  return { en: `${local} (${prov.en})`, fr: `${local} (${prov.fr})` };
}

/** A label for any code: the scheme's own, else the code itself (still a valid concept). */
export function codeLabel(scheme: string, code: string): Label {
  return SCHEMES[scheme]?.codes[code] ?? { en: code, fr: code };
}

/** ISO 8601 / xsd:duration from a parsed standard duration. xsd:duration has no weeks nor business days. */
export function toXsdDuration(value: number, unit: string): string | null {
  if (!Number.isFinite(value) || value <= 0 || !Number.isInteger(value)) return null;
  switch (unit) {
    case 'seconds': return `PT${value}S`;
    case 'minutes': return `PT${value}M`;
    case 'hours': return `PT${value}H`;
    case 'days':
    case 'business_days': return `P${value}D`;
    case 'weeks': return `P${value * 7}D`;
    case 'months': return `P${value}M`;
    default: return null;
  }
}
