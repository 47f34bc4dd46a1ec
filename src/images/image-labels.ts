/**
 * Labels the image service puts on image records (ImageRecord.labels), to remember
 * facts about a name that its manifest does not carry. A pull replaces the record, and
 * with it these labels.
 */

/**
 * On a record `fsck --repair` kept although blobs or snapshots it needs were removed or
 * missing: the next `podyard pull` of the name fetches them again, and says so.
 */
export const NEEDS_PULL_LABEL = "podyard.io/image.needs-pull";

/**
 * On a record whose target manifest was made on this node (a docker-archive holds no
 * manifest, so `load` writes one): no registry knows that digest, so it is no RepoDigest.
 */
export const LOCAL_MANIFEST_LABEL = "podyard.io/image.local-manifest";

/** True when the record's target digest is one a registry (or an OCI archive) gave. */
export function hasRepoDigest(labels: Readonly<Record<string, string>>): boolean {
  return labels[LOCAL_MANIFEST_LABEL] === undefined;
}
