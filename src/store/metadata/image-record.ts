/**
 * The image record: what a name (a normalised reference) points at on this node, and
 * the checks a record passes before it is stored.
 */
import { InvalidArgumentError } from "../../errdefs/index.js";
import { isDigest, validateDescriptor, type Descriptor, type Digest } from "../../oci/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { validateLabels } from "../content/validate-labels.js";

export interface ImageRecord {
  /** The normalised reference: `docker.io/library/busybox:latest` or `repo@sha256:…`. */
  name: string;
  /** What the name points at: the manifest or index that was pulled. */
  target: Descriptor;
  /** The image ID. */
  configDigest: Digest;
  /** The platform manifest chosen (equal to `target.digest` when a manifest was pulled). */
  manifestDigest: Digest;
  /** Bytes of the compressed layers plus the config. */
  size: number;
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
  created: string | undefined;
  labels: Record<string, string>;
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
  const repository = imageRepository(input.name);
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
  const created = input.created;
  if (created !== undefined && typeof created !== "string") throw new InvalidArgumentError(`${where}: created: must be a string`);
  const labels = input.labels === undefined ? {} : wrap("labels", () => validateLabels(input.labels));
  return { name, repository, target: { ...target }, configDigest, manifestDigest, size, created, labels };
}
