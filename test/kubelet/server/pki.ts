/** Moved to test/helpers/pki.ts; kept while test/runtime still imports this path. */
export * from "../../helpers/pki.js";
