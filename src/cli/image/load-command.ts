import { Command } from "commander";
import { InvalidArgumentError } from "../../errdefs/index.js";
import { loadArchive } from "../../images/index.js";
import { familiarString, parseDockerRef } from "../../reference/index.js";
import { print, withNode } from "./with-node.js";

/** `podyard load [-i FILE] [-q]`: docker's load, from a file or STDIN. */
export function loadCommand(): Command {
  return new Command("load")
    .description("Load images from a tar archive (docker-archive or oci-archive, plain or compressed) or STDIN")
    .option("-i, --input <file>", "read from a tar archive file, instead of STDIN")
    .option("-q, --quiet", "suppress the load output")
    .action(async (flags: { input?: string; quiet?: boolean }) => {
      if (flags.input === undefined && process.stdin.isTTY === true) {
        throw new InvalidArgumentError("requested load from stdin, but stdin is empty");
      }
      await withNode(async (env) => {
        const result = await loadArchive(env.imageService, flags.input ?? process.stdin);
        if (flags.quiet) return;
        for (const image of result.images) {
          if (image.names.length === 0) print(`Loaded image ID: ${image.id}`);
          for (const n of image.names) print(`Loaded image: ${familiarString(parseDockerRef(n))}`);
        }
      });
    });
}
