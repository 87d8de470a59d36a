// oidc-provider ships no type declarations; the test harness only needs it to be importable.
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
  export { Provider };
  export const errors: any;
  export const interactionPolicy: any;
}
