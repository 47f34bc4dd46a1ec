/** Authentication and authorization for the registry server: Basic (htpasswd) and bearer tokens. */
export { allowAll, covers, formatScope, parseScope } from "./access.js";
export type { Access, Action, Authorizer, Identity } from "./access.js";
export { DEFAULT_VERIFY_CACHE_TTL_MS, Htpasswd } from "./htpasswd.js";
export type { HtpasswdOptions } from "./htpasswd.js";
export { BasicAuthorizer, parseBasicAuth } from "./basic-authorizer.js";
export type { BasicAuthorizerOptions, BasicCredentials } from "./basic-authorizer.js";
export { ACCESS_TOKEN_TYPE, keyID, libtrustKeyID, REFRESH_TOKEN_TYPE, TokenSigner, verifyToken } from "./token.js";
export type { TokenClaims, VerifyTokenOptions } from "./token.js";
export { scopeParam, TokenAuthorizer } from "./token-authorizer.js";
export type { Realm, TokenAuthorizerOptions } from "./token-authorizer.js";
export {
  createTokenAuth,
  DEFAULT_REFRESH_TTL_SECONDS,
  DEFAULT_TOKEN_TTL_SECONDS,
  grantAccess,
  TokenServer,
} from "./token-server.js";
export type { TokenAuth, TokenAuthOptions, TokenResponse, TokenServerOptions } from "./token-server.js";
