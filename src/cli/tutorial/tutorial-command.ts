/** `podyard tutorial`: the main job. What it does (run-tutorial.ts) is imported when it runs. */
import { Command } from "commander";

export function tutorialCommand(): Command {
  return new Command("tutorial")
    .description("Start a registry, push an image built from Debian's busybox to it, pull it back by digest")
    .option("--keep", "keep the registry storage and image directories")
    .action(async (flags: { keep?: boolean }) => (await import("./run-tutorial.js")).runTutorial({ keep: flags.keep === true }));
}
