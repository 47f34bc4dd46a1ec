/** What `podyard images` does; loaded only when it runs (see images-command.ts). */
import { digestEncoded } from "../../oci/index.js";
import { familiarName, parseDockerRef, parseNormalizedNamed } from "../../reference/index.js";
import { formatBytes } from "./pull-progress.js";
import { humanAge, print, table, withNode } from "./with-node.js";

export interface ImagesFlags {
  digests?: boolean;
  quiet?: boolean;
  trunc: boolean;
}

export async function images(filter: string | undefined, flags: ImagesFlags): Promise<void> {
  await withNode(async (env) => {
    const want = filter !== undefined ? parseNormalizedNamed(filter) : undefined;
    const records = env.images.list().filter((r) => {
      if (!want) return true;
      const ref = parseDockerRef(r.name);
      return ref.name === want.name && (want.tag === undefined || ref.tag === want.tag);
    });
    const id = (d: string): string => (flags.trunc ? digestEncoded(d as `sha256:${string}`).slice(0, 12) : d);
    if (flags.quiet) {
      for (const i of [...new Set(records.map((r) => id(r.configDigest)))]) print(i);
      return;
    }
    const header = ["REPOSITORY", "TAG", ...(flags.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
    const rows = records
      .sort((a, b) => (b.created ?? "").localeCompare(a.created ?? "") || a.name.localeCompare(b.name))
      .map((r) => {
        const ref = parseDockerRef(r.name);
        const repo = familiarName(parseNormalizedNamed(ref.name));
        const tag = r.name.includes("@") ? "<none>" : (ref.tag ?? "<none>");
        const created = r.created ? humanAge(Date.parse(r.created)) : "N/A";
        return [repo, tag, ...(flags.digests ? [r.target.digest] : []), id(r.configDigest), created, formatBytes(r.size)];
      });
    for (const line of table([header, ...rows])) print(line);
  }, { readOnly: true });
}
