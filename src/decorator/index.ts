export {
  OAuth2Decorator,
  isReauthError,
  type OAuth2DecoratorOptions,
  type FromClientSecretsOptions,
  type RouteOptions,
  type OAuthContext,
  type DecoratedHandler,
  type DecoratorFunction,
  type Evaluation,
  type UserResolver,
} from './decorator.js';
export {
  createSealedCookieFlowStore,
  isFlowRecord,
  type FlowRecord,
  type FlowStore,
  type SealedCookieFlowStoreOptions,
} from './flow-store.js';
export { safeReturnPath } from './return-to.js';
export { escapeHtml } from './pages.js';
export { registerRuntime, type AsyncContext, type RuntimeHooks } from './runtime.js';
