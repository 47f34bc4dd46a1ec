/**
 * Pull-through cache of an upstream registry (distribution's proxy mode): what the
 * registry lacks is fetched from upstream, verified, stored, then served.
 */
import type { Digest } from "../../oci/index.js";
import type { ManifestReference, StoredManifest } from "./registry.js";

export interface UpstreamSource {
  /**
   * The manifest from upstream, now cached locally under `ref`; undefined when upstream
   * has none. For a tag this is asked every time (tags move), by digest only on a miss.
   */
  manifest(name: string, ref: ManifestReference): Promise<StoredManifest | undefined>;
  /** Fetches a blob into the local store (verified); false when upstream has none. */
  blob(name: string, digest: Digest): Promise<boolean>;
}
