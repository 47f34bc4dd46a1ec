import { Command } from "commander";
import type { PullFlags } from "./pull-action.js";

/** `podyard pull [--platform os/arch[/variant]] [--all-tags] REF`, with docker's output. */
export function pullCommand(): Command {
  return new Command("pull")
    .description("Download an image from a registry")
    .argument("<image>", "image reference, e.g. busybox, 127.0.0.1:5000/app:v1, app@sha256:...")
    .option("--platform <os/arch[/variant]>", "pull this platform from an index instead of the node's")
    .option("-a, --all-tags", "pull every tag of the repository")
    .option("-q, --quiet", "print only the image name")
    .action(async (image: string, flags: PullFlags) => (await import("./pull-action.js")).pull(image, flags));
}
