import { Command } from "commander";

/** `podyard rmi [-f] IMAGE...`: untag, and delete what no name needs any more. */
export function rmiCommand(): Command {
  return new Command("rmi")
    .description("Remove images (a name, or by ID every name); content no image needs is deleted")
    .argument("<images...>", "image names or IDs")
    .option("-f, --force", "remove even when several names or a container use the image")
    .action(async (images: string[], flags: { force?: boolean }) => (await import("./rmi-action.js")).rmi(images, flags));
}
