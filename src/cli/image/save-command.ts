import { Command, Option } from "commander";
import type { ArchiveFormat } from "../../images/index.js";

/** `podyard save [-o FILE] [--format oci-archive|docker-archive] IMAGE...`: docker's save. */
export function saveCommand(): Command {
  return new Command("save")
    .description("Save one or more images to a tar archive (streamed to STDOUT by default)")
    .argument("<images...>", "image names or IDs")
    .option("-o, --output <file>", "write to a file, instead of STDOUT")
    .addOption(new Option("--format <format>", "archive format").choices(["docker-archive", "oci-archive"]).default("docker-archive"))
    .action(async (images: string[], flags: { output?: string; format: ArchiveFormat }) => (await import("./save-action.js")).save(images, flags));
}
