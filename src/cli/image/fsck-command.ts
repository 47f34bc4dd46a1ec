import { Command } from "commander";
import { fsck } from "../../images/index.js";
import { print, withNode } from "./with-node.js";

/** `podyard fsck [--repair]`: verify blobs, image records and snapshots; remove what is broken. */
export function fsckCommand(): Command {
  return new Command("fsck")
    .description("Verify every blob, image record and snapshot; with --repair remove what is broken")
    .option("--repair", "remove broken blobs, records, snapshots and unfinished downloads")
    .action(async (flags: { repair?: boolean }) => {
      await withNode(async (env) => {
        const report = await fsck({ content: env.content, images: env.images, snapshotter: env.snapshotter }, { repair: flags.repair === true });
        for (const p of report.problems) print(`${p.kind} ${p.subject}: ${p.problem}${p.repaired ? " (removed)" : ""}`);
        print(`checked ${report.blobs} blobs, ${report.images} images, ${report.snapshots} snapshots: ${report.problems.length} problem(s)`);
        if (report.problems.some((p) => !p.repaired && p.kind !== "ingest")) process.exitCode = 1;
      });
    });
}
