/** Minimal typings for jsonld (the package ships none); only what catalogue/cpsv uses. */
declare module 'jsonld' {
  interface Options {
    documentLoader?: (url: string) => Promise<{ contextUrl: string | null; documentUrl: string; document: unknown }>;
    safe?: boolean;
    base?: string | null;
    format?: string;
  }
  const jsonld: {
    toRDF(input: object, options?: Options): Promise<unknown>;
    expand(input: object, options?: Options): Promise<object[]>;
    compact(input: object, ctx: object, options?: Options): Promise<object>;
  };
  export default jsonld;
}
