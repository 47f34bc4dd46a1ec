import { Command } from "commander";
import { digestEncoded } from "../../oci/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { print, withNode } from "./with-node.js";

/** `podyard push REF`, with docker's output. */
export function pushCommand(): Command {
  return new Command("push")
    .description("Upload an image to a registry")
    .argument("<image>", "image reference with the registry to push to, e.g. 127.0.0.1:5000/app:v1")
    .action(async (image: string) => {
      const ref = parseDockerRef(image);
      await withNode(async (env) => {
        print(`The push refers to repository [${ref.name}]`);
        const seen = new Map<string, string>();
        const result = await env.imageService.push(image, {
          onProgress: (e) => {
            if (seen.get(e.digest) === e.status || e.status === "Pushing") return;
            seen.set(e.digest, e.status);
            print(`${digestEncoded(e.digest).slice(0, 12)}: ${e.status}`);
          },
        });
        print(`${ref.tag ?? "latest"}: digest: ${result.digest} size: ${result.size}`);
      });
    });
}
