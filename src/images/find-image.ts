/**
 * How a user names an image on this node, as docker accepts it: a reference
 * (`busybox`, `127.0.0.1:5000/app:v1`, `app@sha256:…`), or an image ID, whole
 * (`sha256:…`) or as a hex prefix of at least 4 characters.
 */
import { InvalidArgumentError, NotFoundError } from "../errdefs/index.js";
import { parseDockerRef } from "../reference/index.js";
import type { ImageRecord, ImageStore } from "../store/index.js";

export interface FoundImage {
  /** the record the user named, or the first record of the image when named by ID */
  record: ImageRecord;
  /** every record of the same image (same config digest) */
  all: ImageRecord[];
  /** true when the user gave an image ID, not a name */
  byID: boolean;
}

const ID = /^(?:sha256:)?([a-f0-9]{4,64})$/;

export function findImage(images: ImageStore, input: string): FoundImage {
  const id = ID.exec(input);
  if (id && id[1]?.length === 64) {
    // a whole image ID (what the kubelet asks the CRI about): one indexed lookup, no scan of every record
    const all = images.byConfigDigest(`sha256:${id[1]}`);
    if (all[0]) return { record: all[0], all, byID: true };
  } else if (id) {
    const prefix = `sha256:${id[1] ?? ""}`;
    const matches = new Map<string, ImageRecord[]>();
    for (const r of images.list()) {
      if (r.configDigest.startsWith(prefix)) matches.set(r.configDigest, [...(matches.get(r.configDigest) ?? []), r]);
    }
    if (matches.size > 1) throw new InvalidArgumentError(`image ID prefix ${input} is ambiguous: it matches ${[...matches.keys()].join(", ")}`);
    const only = [...matches.values()][0];
    if (only && only[0]) return { record: only[0], all: only, byID: true };
  }
  // a bad reference fails with the parser's own error, which names the input (`invalid reference format: "a..b"`)
  const name = parseDockerRef(input).toString();
  let record = images.get(name);
  if (!record) {
    const ref = parseDockerRef(input);
    if (ref.digest) {
      record = images.list().find((r) => (r.target.digest === ref.digest || r.manifestDigest === ref.digest) && parseDockerRef(r.name).name === ref.name);
    }
  }
  if (!record) throw new NotFoundError(`No such image: ${input}`);
  return { record, all: images.byConfigDigest(record.configDigest), byID: false };
}
