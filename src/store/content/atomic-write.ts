/** The content store's durable writes: podyard's shared atomic write, with this store's defaults. */
import { syncDir, writeFileAtomic as writeAtomic } from "../../fsutil/index.js";

/** Writes `data` to `path` so that readers see either the old or the new file, never a mix. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await writeAtomic(path, data, { mode });
}

export { syncDir };
