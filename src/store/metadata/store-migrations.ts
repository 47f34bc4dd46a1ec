/**
 * The store's own tables (component "store"). Append new steps; never edit one that
 * has shipped.
 */
import type { MigrationSet } from "./migrate.js";

export const STORE_MIGRATIONS: MigrationSet = {
  component: "store",
  migrations: [
    {
      version: 1,
      name: "images",
      up(db) {
        db.exec(`
          CREATE TABLE images (
            name            TEXT    PRIMARY KEY,
            repository      TEXT    NOT NULL,
            target          TEXT    NOT NULL,
            target_digest   TEXT    NOT NULL,
            config_digest   TEXT    NOT NULL,
            manifest_digest TEXT    NOT NULL,
            size            INTEGER NOT NULL CHECK (size >= 0),
            created         TEXT,
            created_at      INTEGER NOT NULL,
            updated_at      INTEGER NOT NULL,
            last_used       INTEGER
          ) STRICT;
          CREATE INDEX images_config_digest ON images (config_digest);
          CREATE INDEX images_repository ON images (repository);
          CREATE TABLE image_labels (
            name  TEXT NOT NULL REFERENCES images (name) ON DELETE CASCADE ON UPDATE CASCADE,
            key   TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (name, key)
          ) STRICT;
        `);
      },
    },
    {
      version: 2,
      name: "image chain ID, unpacked size, dangling images",
      up(db) {
        // Filled for records from before this step by the image service, which reads their
        // configs (`ImageStore.setUnpacked`); a dangling image's record is named by its ID.
        db.exec(`
          ALTER TABLE images ADD COLUMN chain_id TEXT;
          ALTER TABLE images ADD COLUMN unpacked_size INTEGER CHECK (unpacked_size >= 0);
        `);
      },
    },
  ],
};
