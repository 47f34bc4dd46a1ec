/** What `podyard fsck` does; loaded only when it runs (see fsck-command.ts). */
import { fsck as check } from "../../images/index.js";
import { print, withNode } from "./with-node.js";

export async function fsck(flags: { repair?: boolean }): Promise<void> {
  await withNode(async (env) => {
    const report = await check({ content: env.content, images: env.images, snapshotter: env.snapshotter }, { repair: flags.repair === true });
    for (const p of report.problems) print(`${p.kind} ${p.subject}: ${p.problem}${p.repaired ? ` (${p.repair ?? "repaired"})` : ""}`);
    print(`checked ${report.blobs} blobs, ${report.images} images, ${report.snapshots} snapshots: ${report.problems.length} problem(s)`);
    // non-zero while a problem it reports is left; 0 when clean, or when --repair dealt with every one
    if (report.problems.some((p) => !p.repaired)) process.exitCode = 1;
  }, { readOnly: flags.repair !== true });
}
