import { Command } from "commander";

/** `podyard fsck [--repair]`: verify blobs, image records and snapshots; remove what is broken. */
export function fsckCommand(): Command {
  return new Command("fsck")
    .description("Verify every blob, image record and snapshot; with --repair remove what is broken")
    .option("--repair", "remove broken blobs, records, snapshots and unfinished downloads")
    .action(async (flags: { repair?: boolean }) => (await import("./fsck-action.js")).fsck(flags));
}
