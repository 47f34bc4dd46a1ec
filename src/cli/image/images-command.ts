import { Command } from "commander";
import type { ImagesFlags } from "./images-action.js";

/** `podyard images [--digests] [-q] [REPOSITORY[:TAG]]`: docker's image list. */
export function imagesCommand(): Command {
  return new Command("images")
    .description("List the images on this node")
    .argument("[repository]", "only this repository (and tag)")
    .option("--digests", "show digests")
    .option("-q, --quiet", "only image IDs")
    .option("--no-trunc", "full image IDs")
    .action(async (filter: string | undefined, flags: ImagesFlags) => (await import("./images-action.js")).images(filter, flags));
}
