/** oidc-provider ships no type declarations; it is used only by the development provider (dev-oidc-provider.ts). */
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
}
