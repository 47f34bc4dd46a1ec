/**
 * A full disk, said with the file: Node's ENOSPC from a write on a descriptor names no
 * path ("ENOSPC: no space left on device, write"), so writers that know the path wrap it.
 */
import { causeChain, errnoCode, ResourceExhaustedError } from "../errdefs/index.js";

const MESSAGES: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
};

/**
 * `err` as a ResourceExhaustedError naming `path` (`no space left on device: writing
 * /var/lib/podyard/content/ingest/…/data`) when it is ENOSPC or EDQUOT; any other error
 * (and one already wrapped) unchanged.
 */
export function noSpaceError(err: unknown, path: string, action = "writing"): unknown {
  const code = errnoCode(err);
  const message = code === undefined ? undefined : MESSAGES[code];
  if (message === undefined) return err;
  return new ResourceExhaustedError(`${message}: ${action} ${path}`, { cause: err });
}

/** Whether `err`, or any error in its cause chain, is a full disk (ENOSPC, EDQUOT). */
export function isOutOfSpace(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const code = errnoCode(e);
    if (code !== undefined && Object.hasOwn(MESSAGES, code)) return true;
  }
  return false;
}
