import { Command } from "commander";
import { familiarString, parseDockerRef } from "../../reference/index.js";
import { print, withNode } from "./with-node.js";

/** `podyard rmi [-f] IMAGE...`: untag, and delete what no name needs any more. */
export function rmiCommand(): Command {
  return new Command("rmi")
    .description("Remove images (a name, or by ID every name); content no image needs is deleted")
    .argument("<images...>", "image names or IDs")
    .option("-f, --force", "remove even when several names or a container use the image")
    .action(async (images: string[], flags: { force?: boolean }) => {
      await withNode(async (env) => {
        let failed: unknown;
        for (const image of images) {
          try {
            const r = await env.imageService.remove(image, { force: flags.force === true });
            for (const n of r.untagged) print(`Untagged: ${familiarString(parseDockerRef(n))}`);
            for (const d of r.deleted) print(`Deleted: ${d}`);
          } catch (err) {
            process.stderr.write(`Error: ${(err as Error).message}\n`);
            failed = err;
          }
        }
        if (failed) process.exitCode = 1;
      });
    });
}
