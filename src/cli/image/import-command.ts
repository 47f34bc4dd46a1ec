import { Command } from "commander";
import type { ImportFlags } from "./import-action.js";

/** `podyard import [-c CHANGE]... [-m MESSAGE] FILE|DIR [NAME]`: docker's import, also of a directory. */
export function importCommand(): Command {
  return new Command("import")
    .description("Create an image from a root filesystem: a tar (plain, gzip or zstd) or a directory")
    .argument("<source>", "tar file or directory")
    .argument("[name]", "the new image's name, e.g. myimage:v1")
    .option("-c, --change <instruction>", "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, ...)",
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("-m, --message <message>", "commit message for the imported image")
    .action(async (source: string, name: string | undefined, flags: ImportFlags) =>
      (await import("./import-action.js")).importImage(source, name, flags));
}
