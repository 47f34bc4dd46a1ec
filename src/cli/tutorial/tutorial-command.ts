/** `podyard tutorial`: the main job. What it does (run-tutorial.ts) is imported when it runs. */
import { Command } from "commander";

export function tutorialCommand(): Command {
  return new Command("tutorial")
    .description("The tutorial end to end: podyard up, an alpine stand-in pushed to its registry, the two pods applied with kubectl, checked, described, cleaned up")
    .option("--keep", "keep the temporary home (state, logs) after the run")
    .action(async (flags: { keep?: boolean }) => (await import("./run-tutorial.js")).runTutorial({ keep: flags.keep === true }));
}
