/** The Distribution API client: auth (Basic, Bearer tokens), retries, verified pulls, pushes. */
export { RegistryClient, DEFAULT_USER_AGENT } from "./registry-client.js";
export type { RegistryClientOptions } from "./registry-client.js";
export type { FetchedManifest } from "./manifests.js";
export { MAX_MANIFEST_BYTES } from "./manifests.js";
export type { FetchBlobOptions } from "./blobs.js";
export type { PushBlobOptions, PushedBlob } from "./uploads.js";
export { MONOLITHIC_MAX_BYTES } from "./uploads.js";
export { parseChallenges, bearerChallenge, hasBasicChallenge } from "./challenge.js";
export type { Challenge, BearerChallenge } from "./challenge.js";
export { Authorizer, mergeScopes } from "./authorizer.js";
export type { AuthorizerOptions, UnauthorizedVerdict } from "./authorizer.js";
export { Transport } from "./transport.js";
export type { TransportOptions, TransportRequest } from "./transport.js";
export { DEFAULT_RETRY_POLICY, backoffMs, isTransientStatus, retryAfterMs } from "./retry.js";
export type { RetryPolicy } from "./retry.js";
export { DOCKER_HUB_API, DOCKER_HUB_HOST, dockerHubRepository, isDockerHub, isLoopbackHost, registryBaseUrl } from "./endpoint.js";
export { RegistryResponseError, responseStatus } from "./errors.js";
export { ociErrorCode } from "../api/index.js";
export type { OciErrorEntry } from "../api/index.js";
export type { Credentials, FetchLike } from "./types.js";
export { plainHttpFetch } from "./plain-http.js";
export type { PlainHttpOptions } from "./plain-http.js";
export { recycleChunk } from "./read-buffers.js";
export { IDENTITY_TOKEN_USERNAME, OAUTH_CLIENT_ID, isIdentityToken } from "./token.js";
export {
  DOCKER_HUB_AUTH_KEY, DockerConfigProvider, decodeAuthEntry, dockerConfigPath, findRegistryKey, parseDockerConfig, readDockerConfig, registryKeyHost,
} from "./credentials/docker-config.js";
export type { DockerAuthEntry, DockerConfig, DockerConfigProviderOptions } from "./credentials/docker-config.js";
export { CredentialHelper, DEFAULT_HELPER_TIMEOUT_MS } from "./credentials/credential-helper.js";
export type { CredentialHelperOptions } from "./credentials/credential-helper.js";
export { CredentialChain, CredentialStore, defaultAuthPath, defaultCredentialProvider } from "./credentials/credential-store.js";
export type { CredentialProvider, CredentialStoreOptions, DefaultCredentialProviderOptions } from "./credentials/credential-store.js";
export { RegistryHosts, defaultHostsPath } from "./hosts.js";
export type { HostConfig, HostsConfig, MirrorConfig, RegistryCapability, RegistryEndpoint, RegistryOperation } from "./hosts.js";
export { MultiEndpointClient, Resolver } from "./resolver.js";
export type { EndpointSource, ResolverOptions } from "./resolver.js";
