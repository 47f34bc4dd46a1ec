import { Command } from "commander";
import { digestEncoded } from "../../oci/index.js";
import { formatBytes } from "./pull-progress.js";
import { humanAge, print, table, withNode } from "./with-node.js";

/** `podyard history IMAGE`: one row per step, newest first, with the size of the layer it made. */
export function historyCommand(): Command {
  return new Command("history")
    .description("Show the steps that made an image")
    .argument("<image>", "image name or ID")
    .option("--no-trunc", "don't shorten the output")
    .action(async (image: string, flags: { trunc: boolean }) => {
      await withNode(async (env) => {
        const rows = (await env.imageService.history(image)).map((h) => [
          h.id === "<missing>" || !flags.trunc ? h.id : digestEncoded(h.id as `sha256:${string}`).slice(0, 12),
          h.created ? humanAge(Date.parse(h.created)) : "",
          flags.trunc && h.createdBy.length > 45 ? `${h.createdBy.slice(0, 44)}…` : h.createdBy,
          formatBytes(h.size),
          h.comment,
        ]);
        for (const line of table([["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], ...rows])) print(line);
      });
    });
}
