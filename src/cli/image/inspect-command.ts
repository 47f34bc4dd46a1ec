import { Command } from "commander";

/** `podyard inspect IMAGE...`: docker image inspect's JSON (RepoTags, RepoDigests, Config, RootFS.Layers). */
export function inspectCommand(): Command {
  return new Command("inspect")
    .description("Show an image's details as JSON")
    .argument("<images...>", "image names or IDs")
    .action(async (images: string[]) => {
      const { print, withNode } = await import("./with-node.js");
      const { inspectImage } = await import("./inspect-image.js");
      await withNode(async (env) => {
        const out: Record<string, unknown>[] = [];
        for (const image of images) out.push(await inspectImage(env.imageService, image));
        print(JSON.stringify(out, null, 4));
      }, { readOnly: true });
    });
}
