export { openDatabase } from "./database.js";
export type { Database, OpenDatabaseOptions } from "./database.js";
export { migrate, schemaVersion } from "./migrate.js";
export type { MigrateOptions, Migration, MigrationSet } from "./migrate.js";
export { STORE_MIGRATIONS } from "./store-migrations.js";
export { isDangling, validateImageRecord } from "./image-record.js";
export type { ImageRecord, ImageRecordInput } from "./image-record.js";
export { ImageStore } from "./image-store.js";
export type { ImageFilter, ImageStoreOptions } from "./image-store.js";
