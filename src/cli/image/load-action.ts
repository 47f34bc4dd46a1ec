/** What `podyard load` does; loaded only when it runs (see load-command.ts). */
import { InvalidArgumentError } from "../../errdefs/index.js";
import { loadArchive } from "../../images/index.js";
import { familiarString, parseDockerRef } from "../../reference/index.js";
import { print, withNode } from "./with-node.js";

export async function load(flags: { input?: string; quiet?: boolean }): Promise<void> {
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
}
