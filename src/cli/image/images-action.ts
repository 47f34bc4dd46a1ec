/** What `podyard images` does; loaded only when it runs (see images-command.ts). */
import { digestEncoded } from "../../oci/index.js";
import { familiarName, parseDockerRef, parseNormalizedNamed } from "../../reference/index.js";
import { hasRepoDigest } from "../../images/index.js";
import { isDangling, type ImageRecord } from "../../store/index.js";
import { formatBytes } from "./pull-progress.js";
import { humanAge, print, table, withNode } from "./with-node.js";

export interface ImagesFlags {
  digests?: boolean;
  quiet?: boolean;
  trunc: boolean;
}

/** REPOSITORY and TAG of a record, as docker shows them: `<none>` for what a name lacks, and both for a dangling image. */
function repoAndTag(r: ImageRecord): [string, string] {
  if (isDangling(r)) return ["<none>", "<none>"];
  const ref = parseDockerRef(r.name);
  return [familiarName(parseNormalizedNamed(ref.name)), r.name.includes("@") ? "<none>" : (ref.tag ?? "<none>")];
}

export async function images(filter: string | undefined, flags: ImagesFlags): Promise<void> {
  await withNode(async (env) => {
    const want = filter !== undefined ? parseNormalizedNamed(filter) : undefined;
    const records = env.images.list().filter((r) => {
      if (!want) return true;
      if (isDangling(r)) return false;
      const ref = parseDockerRef(r.name);
      return ref.name === want.name && (want.tag === undefined || ref.tag === want.tag);
    });
    // as docker's table: a digest of a repository the image also has a tag in is no row of
    // its own, but the DIGEST of the tag's row when the tag knows none
    const key = (r: ImageRecord): string => `${parseDockerRef(r.name).name} ${r.configDigest}`;
    const named = records.filter((r) => !isDangling(r));
    const tagged = new Set(named.filter((r) => !r.name.includes("@")).map(key));
    const digestOf = new Map(named.filter((r) => r.name.includes("@") && hasRepoDigest(r.labels)).map((r) => [key(r), r.target.digest]));
    const shown = records.filter((r) => isDangling(r) || !r.name.includes("@") || !tagged.has(key(r)));
    const id = (d: string): string => (flags.trunc ? digestEncoded(d as `sha256:${string}`).slice(0, 12) : d);
    if (flags.quiet) {
      for (const i of [...new Set(records.map((r) => id(r.configDigest)))]) print(i);
      return;
    }
    const header = ["REPOSITORY", "TAG", ...(flags.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
    const rows = shown
      .sort((a, b) => (b.created ?? "").localeCompare(a.created ?? "") || a.name.localeCompare(b.name))
      .map((r) => {
        const created = r.created ? humanAge(Date.parse(r.created)) : "N/A";
        // docker shows no digest for an image no registry gave (a docker-archive load)
        const digest = isDangling(r) ? "<none>" : hasRepoDigest(r.labels) ? r.target.digest : (digestOf.get(key(r)) ?? "<none>");
        return [...repoAndTag(r), ...(flags.digests ? [digest] : []), id(r.configDigest), created, formatBytes(r.unpackedSize ?? r.size)];
      });
    for (const line of table([header, ...rows])) print(line);
  }, { readOnly: true });
}
