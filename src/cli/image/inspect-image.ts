/** `docker image inspect`'s view of an image. */
import { hasRepoDigest, type LocalImageService } from "../../images/index.js";
import { familiarName, familiarString, parseDockerRef, parseNormalizedNamed } from "../../reference/index.js";

export async function inspectImage(service: LocalImageService, image: string): Promise<Record<string, unknown>> {
  await service.upgradeRecords();
  const d = await service.details(image);
  const tags = d.names.filter((n) => !n.includes("@")).map((n) => familiarString(parseDockerRef(n)));
  const digests = [...new Set(d.names.flatMap((n) => {
    const r = service.find(n).record;
    return hasRepoDigest(r.labels) ? [`${familiarName(parseNormalizedNamed(parseDockerRef(n).name))}@${r.target.digest}`] : [];
  }))].sort();
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
