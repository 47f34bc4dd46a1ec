import { Command } from "commander";

/** `podyard tag SOURCE TARGET`: another name for an image. */
export function tagCommand(): Command {
  return new Command("tag")
    .description("Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    .argument("<source>", "image name or ID")
    .argument("<target>", "new name, e.g. 127.0.0.1:5000/app:v2")
    .action(async (source: string, target: string) => {
      const { withNode } = await import("./with-node.js");
      await withNode(async (env) => {
        env.imageService.tag(source, target);
      });
    });
}
