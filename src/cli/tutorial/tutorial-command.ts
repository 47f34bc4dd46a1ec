/** `podyard tutorial`: the main job. */
import { Command } from "commander";
import { runTutorial } from "./run-tutorial.js";

export function tutorialCommand(): Command {
  return new Command("tutorial")
    .description("Start a registry, push an image built from Debian's busybox to it, pull it back by digest")
    .option("--keep", "keep the registry storage and image directories")
    .action(async (flags: { keep?: boolean }) => runTutorial({ keep: flags.keep === true }));
}
