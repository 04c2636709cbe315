/**
 * Tell the search module that services changed (publication, withdrawal), so search reflects it at once.
 * src/catalogue/search/index.ts exports invalidateSearchIndex(); it is loaded lazily so that the editor keeps
 * working (and typechecking) while the search module is absent or being rebuilt.
 */
let cached: (() => void) | null | undefined;

export async function invalidateSearch(): Promise<void> {
  if (cached === undefined) {
    try {
      const specifier: string = '../search/index';
      const mod = (await import(specifier)) as { invalidateSearchIndex?: () => void };
      cached = typeof mod.invalidateSearchIndex === 'function' ? mod.invalidateSearchIndex : null;
    } catch {
      cached = null;
    }
  }
  cached?.();
}
