/** What `podyard pull` does; loaded only when it runs (see pull-command.ts). */
import { InvalidArgumentError } from "../../errdefs/index.js";
import { familiarString, parseDockerRef, parseNormalizedNamed } from "../../reference/index.js";
import { parsePlatform } from "../../oci/index.js";
import { PullProgress } from "./pull-progress.js";
import { print, withNode } from "./with-node.js";

export interface PullFlags {
  platform?: string;
  allTags?: boolean;
  quiet?: boolean;
}

export async function pull(image: string, flags: PullFlags): Promise<void> {
  const named = parseNormalizedNamed(image);
  const platform = flags.platform !== undefined ? parsePlatform(flags.platform) : undefined;
  if (flags.allTags && (named.tag !== undefined || named.digest !== undefined)) {
    throw new InvalidArgumentError(`tag can't be used with --all-tags/-a: ${JSON.stringify(image)}`);
  }
  await withNode(async (env) => {
    const refs: string[] = [];
    if (flags.allTags) {
      const tags = await (await env.resolver.pusher(parseDockerRef(named.name))).tags(named.path);
      for (const t of tags) refs.push(`${named.name}:${t}`);
    } else {
      if (named.tag === undefined && named.digest === undefined && !flags.quiet) print("Using default tag: latest");
      refs.push(parseDockerRef(image).toString());
    }
    for (const r of refs) {
      const ref = parseDockerRef(r);
      const progress = new PullProgress({ write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true });
      if (!flags.quiet) print(`${ref.digest ?? ref.tag ?? "latest"}: Pulling from ${familiarString(parseNormalizedNamed(ref.name))}`);
      const result = await env.imageService.pull(r, {
        ...(platform ? { platform } : {}),
        ...(flags.quiet ? {} : { onProgress: (e) => progress.on(e) }),
      });
      if (!flags.quiet) {
        print(`Digest: ${result.digest}`);
        print(result.downloaded ? `Status: Downloaded newer image for ${familiarString(ref)}` : `Status: Image is up to date for ${familiarString(ref)}`);
      }
      print(ref.toString());
    }
  });
}
