/** What `podyard import` does; loaded only when it runs (see import-command.ts). */
import { importRootfs } from "../../images/index.js";
import { print, withNode } from "./with-node.js";

export interface ImportFlags {
  change: string[];
  message?: string;
}

export async function importImage(source: string, name: string | undefined, flags: ImportFlags): Promise<void> {
  await withNode(async (env) => {
    const result = await importRootfs(env.imageService, source, {
      ...(name !== undefined ? { name } : {}),
      ...(flags.message !== undefined ? { message: flags.message } : {}),
      changes: flags.change,
    });
    print(result.id);
  });
}
