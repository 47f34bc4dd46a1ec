/**
 * The schema of the kinds podyard serves, and the OpenAPI v3 documents built from it.
 */
export { openApiV3Document, openApiV3Index, buildOpenApiV3, openApiHash, GROUP_VERSIONS, GROUP_VERSIONS as OPENAPI_GROUP_VERSIONS } from "./document.js";
export type { GroupVersion, GroupVersion as OpenApiGroupVersion, OpenApiV3 } from "./document.js";
export { DEFINITIONS, RESOURCES, definitionOf, definitionOfKind } from "./definitions.js";
export { isList, isMap } from "./model.js";
export type { Definition, Field, FieldType, ListType } from "./model.js";
