import { Command } from "commander";

/** `podyard load [-i FILE] [-q]`: docker's load, from a file or STDIN. */
export function loadCommand(): Command {
  return new Command("load")
    .description("Load images from a tar archive (docker-archive or oci-archive, plain or compressed) or STDIN")
    .option("-i, --input <file>", "read from a tar archive file, instead of STDIN")
    .option("-q, --quiet", "suppress the load output")
    .action(async (flags: { input?: string; quiet?: boolean }) => (await import("./load-action.js")).load(flags));
}
