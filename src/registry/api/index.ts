/**
 * What the registry's server and client share: the route table (paths, patterns, URLs)
 * and the OCI error-code table with its mapping to podyard's error classes.
 */
export { ROUTE_DESCRIPTORS, ROUTES, matchRoute, routeResource, urls } from "./routes.js";
export type { RouteMatch, RouteName } from "./routes.js";
export {
  CLASS_WIRE, OCI_CODES, RegistryError, classForStatus, errorBody, isOciErrorCode, ociErrorCode, parseErrorBody, toRegistryError, wireCode,
} from "./errcode.js";
export type { OciErrorCode, OciErrorEntry, OciResource, RegistryErrorOptions } from "./errcode.js";
