/**
 * The image record: what a name (a normalised reference) points at on this node, and
 * the checks a record passes before it is stored. An image with no name left (loaded or
 * imported untagged, or whose tag moved to another image) is dangling, docker's
 * `<none>:<none>`: its one record is named by its image ID.
 */
import { InvalidArgumentError } from "../../errdefs/index.js";
import { isDigest, validateDescriptor, type Descriptor, type Digest } from "../../oci/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { validateLabels } from "../content/validate-labels.js";

export interface ImageRecord {
  /**
   * The normalised reference: `docker.io/library/busybox:latest` or `repo@sha256:…`; for a
   * dangling image, its image ID (`configDigest`).
   */
  name: string;
  /** What the name points at: the manifest or index that was pulled. */
  target: Descriptor;
  /** The image ID. */
  configDigest: Digest;
  /** The platform manifest chosen (equal to `target.digest` when a manifest was pulled). */
  manifestDigest: Digest;
  /** Bytes of the compressed layers plus the config (the content the image takes in the store). */
  size: number;
  /** The chain ID of the image's top layer: the snapshot its containers are stacked on. */
  chainID?: Digest;
  /** Bytes the unpacked layers take (their snapshots' usage): docker's image SIZE. */
  unpackedSize?: number;
  /** `created` from the image config. */
  created?: string;
  labels: Record<string, string>;
  /** Milliseconds since the epoch, from the store's Clock. */
  createdAt: number;
  updatedAt: number;
  lastUsed?: number;
}

/** What `ImageStore.put` takes: a record without the times the store keeps. */
export type ImageRecordInput = Omit<ImageRecord, "labels" | "createdAt" | "updatedAt" | "lastUsed"> & {
  labels?: Record<string, string>;
};

/** A checked record, with the repository its name belongs to. */
export interface ValidImageRecord {
  name: string;
  repository: string;
  target: Descriptor;
  configDigest: Digest;
  manifestDigest: Digest;
  size: number;
  chainID: Digest | undefined;
  unpackedSize: number | undefined;
  created: string | undefined;
  labels: Record<string, string>;
}

/** True for the record of a dangling image (no name left): it is named by the image ID. */
export function isDangling(record: Pick<ImageRecord, "name" | "configDigest">): boolean {
  return record.name === record.configDigest;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The repository of a normalised reference, or InvalidArgumentError when `name` is not one. */
export function imageRepository(name: unknown): string {
  if (typeof name !== "string" || name === "") throw new InvalidArgumentError("image record: name: must be a non-empty string");
  let normalised: string;
  let repository: string;
  try {
    const ref = parseDockerRef(name);
    normalised = ref.toString();
    repository = ref.name;
  } catch (err) {
    throw new InvalidArgumentError(`image record: name: ${JSON.stringify(name)}: ${(err as Error).message}`, { cause: err });
  }
  if (normalised !== name) {
    throw new InvalidArgumentError(`image record: name: ${JSON.stringify(name)} is not normalised; use ${JSON.stringify(normalised)}`);
  }
  return repository;
}

/** Checks every field of `input`; errors name the record and the field. */
export function validateImageRecord(input: unknown): ValidImageRecord {
  if (!isRecord(input)) throw new InvalidArgumentError("image record: must be an object");
  const dangling = typeof input.name === "string" && isDigest(input.name);
  if (dangling && input.name !== input.configDigest) {
    throw new InvalidArgumentError(`image record ${JSON.stringify(input.name)}: name: a digest names only a dangling image, and must be its configDigest ${JSON.stringify(input.configDigest)}`);
  }
  const repository = dangling ? "" : imageRepository(input.name);
  const name = input.name as string;
  const where = `image record ${JSON.stringify(name)}`;
  const wrap = <T>(field: string, check: () => T): T => {
    try {
      return check();
    } catch (err) {
      const msg = (err as Error).message;
      throw new InvalidArgumentError(`${where}: ${msg.startsWith(field) ? msg : `${field}: ${msg}`}`, { cause: err });
    }
  };
  const target = wrap("target", () => validateDescriptor(input.target, "target"));
  const digestField = (field: "configDigest" | "manifestDigest"): Digest => {
    const v = input[field];
    if (typeof v !== "string" || !isDigest(v)) throw new InvalidArgumentError(`${where}: ${field}: invalid digest ${JSON.stringify(v)}`);
    return v;
  };
  const configDigest = digestField("configDigest");
  const manifestDigest = digestField("manifestDigest");
  const size = input.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidArgumentError(`${where}: size: ${JSON.stringify(size)} must be a non-negative integer`);
  }
  const chainID = input.chainID;
  if (chainID !== undefined && (typeof chainID !== "string" || !isDigest(chainID))) {
    throw new InvalidArgumentError(`${where}: chainID: invalid digest ${JSON.stringify(chainID)}`);
  }
  const unpackedSize = input.unpackedSize;
  if (unpackedSize !== undefined && (typeof unpackedSize !== "number" || !Number.isSafeInteger(unpackedSize) || unpackedSize < 0)) {
    throw new InvalidArgumentError(`${where}: unpackedSize: ${JSON.stringify(unpackedSize)} must be a non-negative integer`);
  }
  const created = input.created;
  if (created !== undefined && typeof created !== "string") throw new InvalidArgumentError(`${where}: created: must be a string`);
  const labels = input.labels === undefined ? {} : wrap("labels", () => validateLabels(input.labels));
  return { name, repository, target: { ...target }, configDigest, manifestDigest, size, chainID, unpackedSize, created, labels };
}
