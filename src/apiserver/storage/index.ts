export * from "./types.js";
export { SqliteStorage, type SqliteStorageOptions } from "./sqlite.js";
