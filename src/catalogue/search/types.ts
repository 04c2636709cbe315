/**
 * The search contract shared by the search API, the portal pages and the agent console.
 * Implemented in src/catalogue/search/index.ts as:
 *   export async function searchServices(db: Database, params: SearchParams): Promise<SearchResult>
 *   export async function searchOrganisations(db: Database, params: OrgSearchParams): Promise<OrgSearchResult>
 * and the index is kept fresh when services change: export function invalidateSearchIndex(): void
 */
import type { Lang } from '../../i18n/index';

export interface SearchParams {
  q?: string;
  lang: Lang;
  audience?: string[];
  lifeEvent?: string;
  organisation?: string[];
  channel?: string[];
  page: number; // 1-based
  pageSize: number;
}

export interface SearchItem {
  id: string;
  identifier: string;
  title: string;
  description: string;
  organisation: { id: string; name: string; level: string };
  channels: string[];
  url: string; // portal path: /en/services/<id> or /fr/services/<id>
  score?: number;
  isDemo?: boolean;
}

export interface FacetValue {
  value: string;
  label: string;
  count: number;
}

export interface SearchResult {
  total: number;
  items: SearchItem[];
  facets: { audience: FacetValue[]; organisation: FacetValue[]; channel: FacetValue[]; lifeEvent: FacetValue[]; level: FacetValue[] };
}

export interface OrgSearchParams {
  q?: string;
  lang: Lang;
  level?: string;
  page: number;
  pageSize: number;
}

export interface OrgSearchResult {
  total: number;
  items: Array<{ id: string; name: string; acronym: string | null; level: string; services: number; url: string }>;
}
