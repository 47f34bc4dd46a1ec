/** `docker image inspect`'s view of an image. */
import type { LocalImageService } from "../../images/index.js";
import { familiarName, familiarString, parseDockerRef, parseNormalizedNamed } from "../../reference/index.js";

export async function inspectImage(service: LocalImageService, image: string): Promise<Record<string, unknown>> {
  await service.upgradeRecords();
  const d = await service.details(image);
  const tags = d.names.filter((n) => !n.includes("@")).map((n) => familiarString(parseDockerRef(n)));
  // the CRI's repo digests (full names), in docker's familiar form
  const digests = service.repoDigests(d.record.configDigest).map((rd) => {
    const at = rd.indexOf("@");
    return `${familiarName(parseNormalizedNamed(rd.slice(0, at)))}${rd.slice(at)}`;
  }).sort();
  return {
    Id: d.record.configDigest,
    RepoTags: tags,
    RepoDigests: digests,
    Created: d.config.created ?? "",
    Architecture: d.config.architecture,
    Os: d.config.os,
    ...(d.config.variant ? { Variant: d.config.variant } : {}),
    Size: d.record.unpackedSize ?? d.record.size,
    Config: d.config.config ?? {},
    RootFS: { Type: d.config.rootfs.type, Layers: d.config.rootfs.diff_ids },
    Metadata: { LastTagTime: new Date(d.record.updatedAt).toISOString() },
  };
}
