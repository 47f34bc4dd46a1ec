export { RegistryServer, DEFAULT_UPLOAD_TTL_MS } from "./server.js";
export type { ConnectionOptions } from "./connections.js";
export { checkRoot } from "./storage-root.js";
export type { CheckRootOptions } from "./storage-root.js";
export type { RegistryServerOptions } from "./server.js";
export { Registry, DEFAULT_MAX_MANIFEST_BYTES } from "./registry.js";
export type { StoredManifest, ManifestReference } from "./registry.js";
export { OCI_CODES, RegistryError } from "./errcode.js";
export type { OciErrorCode } from "./errcode.js";
export {
  allowAll, BasicAuthorizer, covers, createTokenAuth, formatScope, grantAccess, Htpasswd, parseScope, TokenAuthorizer, TokenServer, TokenSigner, verifyToken,
} from "./auth/index.js";
export type {
  Access, Authorizer, BasicAuthorizerOptions, Identity, Realm, TokenAuth, TokenAuthOptions, TokenAuthorizerOptions, TokenClaims, TokenResponse, TokenServerOptions,
} from "./auth/index.js";
export type { UpstreamSource } from "./proxy.js";
export type { ServerSettings } from "./context.js";
export { collectGarbage } from "./gc.js";
export type { GcOptions, GcReport } from "./gc.js";
export { ProxyCache, createPullThroughServer } from "./proxy-cache.js";
export type { ProxyCacheOptions, PullThroughServerOptions } from "./proxy-cache.js";
