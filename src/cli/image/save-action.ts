/** What `podyard save` does; loaded only when it runs (see save-command.ts). */
import { constants } from "node:os";
import { errnoCode, InvalidArgumentError } from "../../errdefs/index.js";
import { saveImages, type ArchiveFormat } from "../../images/index.js";
import { withNode } from "./with-node.js";

export async function save(images: string[], flags: { output?: string; format: ArchiveFormat }): Promise<void> {
  if (flags.output === undefined && process.stdout.isTTY === true) {
    throw new InvalidArgumentError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  await withNode(async (env) => {
    try {
      await saveImages(env.imageService, images, flags.output ?? process.stdout, { format: flags.format });
    } catch (err) {
      // a reader that stops (`podyard save app | head -c 100`): quiet, with the code of a
      // SIGPIPE death, as docker and other Unix tools end, not 'write EPIPE'
      if (flags.output !== undefined || errnoCode(err) !== "EPIPE") throw err;
      process.exitCode = 128 + constants.signals.SIGPIPE;
    }
  });
}
