/**
 * schema.org `GovernmentService` JSON-LD for a service page (https://schema.org/GovernmentService), embedded as
 * <script type="application/ld+json"> so search engines and other portals can read the catalogue.
 * serviceOperator = the owning organisation (competent authority); provider = who delivers it (the one-stop or the
 * owner); availableChannel = one ServiceChannel per channel (online URL, phone, offices); areaServed from the owner's
 * jurisdiction; offers = the fees (integer cents → decimal price in CAD).
 */
import type { Lang } from '../../i18n/index';
import { PROVINCES } from '../../i18n/provinces';

export interface OrgLike {
  id: string;
  name_en: string;
  name_fr: string;
  acronym_en?: string | null;
  acronym_fr?: string | null;
  level: string;
  jurisdiction: string;
  logo_url?: string | null;
  website_en?: string | null;
  website_fr?: string | null;
  phone?: string | null;
  email?: string | null;
}

export interface ServiceJsonLdInput {
  baseUrl: string;
  lang: Lang;
  service: {
    id: string;
    identifier: string;
    title_en: string;
    title_fr: string;
    description_en: string;
    description_fr: string;
    audiences: string[];
    url_en: string | null;
    url_fr: string | null;
  };
  owner: OrgLike;
  deliverers: OrgLike[];
  channels: Array<{ channel: string; url_en: string | null; url_fr: string | null; phone: string | null; email: string | null }>;
  offices: Array<{ id: string; name_en: string; name_fr: string; address: string; city: string; province: string; postal_code: string; latitude: number; longitude: number; phone: string | null }>;
  costs: Array<{ amount_cents: number; currency: string; description_en: string; description_fr: string }>;
  audienceLabel: (code: string) => string;
}


/** 'CA' → Canada, 'CA-ON' → Ontario, 'CA-ON-ottawa' → Ottawa (Ontario). */
export function jurisdictionName(jurisdiction: string, lang: Lang): string {
  const [country, prov, local] = jurisdiction.split('-');
  if (country !== 'CA') return jurisdiction;
  const p = prov ? PROVINCES[prov]?.[lang] ?? prov : null;
  if (local) {
    const town = local.charAt(0).toUpperCase() + local.slice(1);
    return p ? `${town} (${p})` : town;
  }
  return p ?? 'Canada';
}

const pick = (row: Record<string, any>, field: string, lang: Lang): string => (row[`${field}_${lang}`] ?? row[`${field}_${lang === 'en' ? 'fr' : 'en'}`] ?? '') as string;

function orgNode(o: OrgLike, lang: Lang, baseUrl: string) {
  const acronym = pick(o, 'acronym', lang);
  return {
    '@type': 'GovernmentOrganization',
    '@id': `${baseUrl}/${lang}/organisations/${encodeURIComponent(o.id)}`,
    name: pick(o, 'name', lang),
    ...(acronym ? { alternateName: acronym } : {}),
    ...(pick(o, 'website', lang) ? { sameAs: pick(o, 'website', lang) } : {}),
    ...(o.logo_url ? { logo: new URL(o.logo_url, baseUrl).toString() } : {}),
    ...(o.phone ? { telephone: o.phone } : {}),
    ...(o.email ? { email: o.email } : {}),
    areaServed: { '@type': 'AdministrativeArea', name: jurisdictionName(o.jurisdiction, lang) },
  };
}

export function governmentServiceJsonLd(input: ServiceJsonLdInput): Record<string, unknown> {
  const { lang, service, owner, baseUrl } = input;
  const pageUrl = `${baseUrl}/${lang}/services/${encodeURIComponent(service.id)}`;
  const channels: Record<string, unknown>[] = [];
  for (const c of input.channels) {
    const url = pick(c, 'url', lang) || (c.channel === 'online' ? pick(service, 'url', lang) : '');
    if (c.channel === 'online' && url) channels.push({ '@type': 'ServiceChannel', name: 'online', serviceUrl: url, availableLanguage: lang });
    else if (c.channel === 'phone' && c.phone) {
      channels.push({ '@type': 'ServiceChannel', name: 'phone', servicePhone: { '@type': 'ContactPoint', telephone: c.phone, contactType: 'customer service' } });
    } else if (c.channel === 'mail' || c.channel === 'email' || c.channel === 'fax' || c.channel === 'kiosk') {
      const target = url || (c.email ? `mailto:${c.email}` : '');
      channels.push({ '@type': 'ServiceChannel', name: c.channel, ...(target ? { serviceUrl: target } : {}) });
    }
  }
  const onlineUrl = pick(service, 'url', lang);
  if (onlineUrl && !channels.some((c) => c.serviceUrl === onlineUrl)) channels.push({ '@type': 'ServiceChannel', name: 'online', serviceUrl: onlineUrl });
  for (const o of input.offices) {
    channels.push({
      '@type': 'ServiceChannel',
      name: 'in_person',
      serviceLocation: {
        '@type': 'GovernmentOffice',
        '@id': `${baseUrl}/${lang}/${lang === 'fr' ? 'bureaux' : 'offices'}/${encodeURIComponent(o.id)}`,
        name: pick(o, 'name', lang),
        address: { '@type': 'PostalAddress', streetAddress: o.address, addressLocality: o.city, addressRegion: o.province, postalCode: o.postal_code, addressCountry: 'CA' },
        geo: { '@type': 'GeoCoordinates', latitude: o.latitude, longitude: o.longitude },
        ...(o.phone ? { telephone: o.phone } : {}),
      },
    });
  }
  const providers = input.deliverers.length ? input.deliverers : [owner];
  const doc: Record<string, unknown> = {
    '@context': 'https://schema.org',
    '@type': 'GovernmentService',
    '@id': pageUrl,
    url: pageUrl,
    identifier: service.identifier,
    name: pick(service, 'title', lang),
    description: pick(service, 'description', lang),
    inLanguage: lang,
    serviceOperator: orgNode(owner, lang, baseUrl),
    provider: providers.map((o) => orgNode(o, lang, baseUrl)),
    areaServed: { '@type': 'AdministrativeArea', name: jurisdictionName(owner.jurisdiction, lang) },
    availableChannel: channels,
  };
  if (service.audiences.length) doc.audience = service.audiences.map((a) => ({ '@type': 'Audience', audienceType: input.audienceLabel(a) }));
  if (input.costs.length) {
    doc.offers = input.costs.map((c) => ({ '@type': 'Offer', name: pick(c, 'description', lang), price: (c.amount_cents / 100).toFixed(2), priceCurrency: c.currency || 'CAD' }));
  }
  return doc;
}
