import { Command } from "commander";

/** `podyard inspect IMAGE...`: docker image inspect's JSON (RepoTags, RepoDigests, Config, RootFS.Layers). */
export function inspectCommand(): Command {
  return new Command("inspect")
    .description("Show an image's details as JSON")
    .argument("<images...>", "image names or IDs")
    .action(async (images: string[]) => (await import("./inspect-action.js")).inspect(images));
}
