import { Command } from "commander";

/** `podyard push REF`, with docker's output. */
export function pushCommand(): Command {
  return new Command("push")
    .description("Upload an image to a registry")
    .argument("<image>", "image reference with the registry to push to, e.g. 127.0.0.1:5000/app:v1")
    .action(async (image: string) => (await import("./push-action.js")).push(image));
}
