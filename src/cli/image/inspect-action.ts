/** What `podyard inspect` does; loaded only when it runs (see inspect-command.ts). */
import { errorReport } from "../error-line.js";
import { exitCodeFor } from "../exit-codes.js";
import { inspectImage } from "./inspect-image.js";
import { print, withNode } from "./with-node.js";

/**
 * As docker, an image that is not there does not hide the others: the array holds every
 * image found, each one missing gets its error line, and the exit code is the failure's.
 */
export async function inspect(images: string[]): Promise<void> {
  await withNode(async (env) => {
    const out: Record<string, unknown>[] = [];
    let failed: unknown;
    for (const image of images) {
      try {
        out.push(await inspectImage(env.imageService, image));
      } catch (err) {
        process.stderr.write(errorReport(err, false));
        failed = err;
      }
    }
    print(JSON.stringify(out, null, 4));
    if (failed !== undefined) process.exitCode = exitCodeFor(failed);
  }, { readOnly: true });
}
