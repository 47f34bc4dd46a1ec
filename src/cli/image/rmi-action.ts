/** What `podyard rmi` does; loaded only when it runs (see rmi-command.ts). */
import { familiarString, parseDockerRef } from "../../reference/index.js";
import { ERROR_PREFIX, errorLine } from "../error-line.js";
import { exitCodeFor } from "../exit-codes.js";
import { removeImage } from "./remove-image.js";
import { print, withNode } from "./with-node.js";

export async function rmi(images: string[], flags: { force?: boolean }): Promise<void> {
  await withNode(async (env) => {
    let failed: unknown;
    for (const image of images) {
      try {
        const r = await removeImage(env.imageService, image, { force: flags.force === true });
        for (const n of r.untagged) print(`Untagged: ${familiarString(parseDockerRef(n))}`);
        for (const d of r.deleted) print(`Deleted: ${d}`);
      } catch (err) {
        process.stderr.write(`${ERROR_PREFIX}${errorLine(err)}\n`);
        failed = err;
      }
    }
    if (failed) process.exitCode = exitCodeFor(failed);
  });
}
