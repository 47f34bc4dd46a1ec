/** What `podyard push` does; loaded only when it runs (see push-command.ts). */
import { digestEncoded } from "../../oci/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { print, withNode } from "./with-node.js";

export async function push(image: string): Promise<void> {
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
}
