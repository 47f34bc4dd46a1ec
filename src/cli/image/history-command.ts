import { Command } from "commander";

/** `podyard history IMAGE`: one row per step, newest first, with the size of the layer it made. */
export function historyCommand(): Command {
  return new Command("history")
    .description("Show the steps that made an image")
    .argument("<image>", "image name or ID")
    .option("--no-trunc", "don't shorten the output")
    .action(async (image: string, flags: { trunc: boolean }) => (await import("./history-action.js")).history(image, flags));
}
