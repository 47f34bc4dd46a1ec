/** What `podyard history` does; loaded only when it runs (see history-command.ts). */
import { digestEncoded } from "../../oci/index.js";
import { imageHistory } from "./image-history.js";
import { formatBytes } from "./pull-progress.js";
import { humanAge, print, table, withNode } from "./with-node.js";

export async function history(image: string, flags: { trunc: boolean }): Promise<void> {
  await withNode(async (env) => {
    const rows = (await imageHistory(env.imageService, image)).map((h) => [
      h.id === "<missing>" || !flags.trunc ? h.id : digestEncoded(h.id as `sha256:${string}`).slice(0, 12),
      h.created ? humanAge(Date.parse(h.created)) : "",
      flags.trunc && h.createdBy.length > 45 ? `${h.createdBy.slice(0, 44)}…` : h.createdBy,
      formatBytes(h.size),
      h.comment,
    ]);
    for (const line of table([["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], ...rows])) print(line);
  }, { readOnly: true });
}
