/** Moved to test/helpers/test-api.ts; kept while test/runtime still imports this path. */
export * from "../../helpers/test-api.js";
