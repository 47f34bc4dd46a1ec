/**
 * Manifest, index and descriptor types (OCI image spec v1.1, Docker schema 2) and the
 * validation a registry applies before it stores manifest bytes.
 */
import { InvalidArgumentError } from "../errdefs/index.js";
import { isDigest, type Digest } from "./digest.js";
import { isIndexMediaType, isManifestMediaType, MANIFEST_MEDIA_TYPES } from "./media-types.js";

export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest after validation: its kind, its parsed body and what it points at. */
export type ParsedManifest =
  | { kind: "manifest"; mediaType: string; body: ImageManifest }
  | { kind: "index"; mediaType: string; body: ImageIndex };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkStringMap(v: unknown, where: string): void {
  if (v === undefined) return;
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== "string")) {
    throw new InvalidArgumentError(`${where}: must be an object of strings`);
  }
}

/** Validates one descriptor; `where` names it in errors (e.g. `layers[2]`). */
export function validateDescriptor(v: unknown, where: string): Descriptor {
  if (!isRecord(v)) throw new InvalidArgumentError(`${where}: descriptor must be an object`);
  if (typeof v.mediaType !== "string" || v.mediaType === "") {
    throw new InvalidArgumentError(`${where}.mediaType: must be a non-empty string`);
  }
  if (typeof v.digest !== "string" || !isDigest(v.digest)) {
    throw new InvalidArgumentError(`${where}.digest: invalid digest ${JSON.stringify(v.digest)}`);
  }
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw new InvalidArgumentError(`${where}.size: must be a non-negative integer`);
  }
  if (v.urls !== undefined && (!Array.isArray(v.urls) || v.urls.some((u) => typeof u !== "string"))) {
    throw new InvalidArgumentError(`${where}.urls: must be an array of strings`);
  }
  checkStringMap(v.annotations, `${where}.annotations`);
  if (v.data !== undefined) {
    if (typeof v.data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v.data)) {
      throw new InvalidArgumentError(`${where}.data: must be base64`);
    }
  }
  if (v.platform !== undefined) {
    const p = v.platform;
    if (!isRecord(p) || typeof p.architecture !== "string" || typeof p.os !== "string") {
      throw new InvalidArgumentError(`${where}.platform: must have string architecture and os`);
    }
  }
  return v as unknown as Descriptor;
}

/**
 * Parses and validates manifest bytes. `contentType` is the Content-Type the client sent;
 * when the body has a `mediaType` it must equal it. Throws InvalidArgumentError naming the
 * offending field.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(json)) throw new InvalidArgumentError("manifest must be a JSON object");
  if (json.schemaVersion !== 2) throw new InvalidArgumentError("schemaVersion: must be 2");
  const declared = typeof json.mediaType === "string" ? json.mediaType : undefined;
  if (json.mediaType !== undefined && declared === undefined) throw new InvalidArgumentError("mediaType: must be a string");
  const ct = contentType?.split(";")[0]?.trim() || undefined;
  if (declared !== undefined && ct !== undefined && declared !== ct) {
    throw new InvalidArgumentError(`mediaType ${declared} does not match Content-Type ${ct}`);
  }
  let mediaType = declared ?? ct;
  if (mediaType === undefined || !MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    // No usable type given: infer from the shape, as registries do for OCI manifests without mediaType.
    if (mediaType !== undefined && MANIFEST_MEDIA_TYPES.includes(mediaType) === false && declared !== undefined) {
      throw new InvalidArgumentError(`mediaType: unsupported manifest media type ${mediaType}`);
    }
    if (ct !== undefined && MANIFEST_MEDIA_TYPES.includes(ct) === false && ct !== "application/json" && ct !== "application/octet-stream") {
      throw new InvalidArgumentError(`unsupported manifest media type ${ct}`);
    }
    mediaType = Array.isArray(json.manifests) ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json";
  }
  if (json.artifactType !== undefined && typeof json.artifactType !== "string") {
    throw new InvalidArgumentError("artifactType: must be a string");
  }
  checkStringMap(json.annotations, "annotations");
  if (json.subject !== undefined) validateDescriptor(json.subject, "subject");

  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(json.manifests)) throw new InvalidArgumentError("manifests: must be an array");
    json.manifests.forEach((d, i) => validateDescriptor(d, `manifests[${i}]`));
    return { kind: "index", mediaType, body: json as unknown as ImageIndex };
  }
  if (!isManifestMediaType(mediaType)) throw new InvalidArgumentError(`unsupported manifest media type ${mediaType}`);
  validateDescriptor(json.config, "config");
  if (json.layers === undefined && mediaType === "application/vnd.oci.image.manifest.v1+json") json.layers = [];
  if (!Array.isArray(json.layers)) throw new InvalidArgumentError("layers: must be an array");
  json.layers.forEach((d, i) => validateDescriptor(d, `layers[${i}]`));
  return { kind: "manifest", mediaType, body: json as unknown as ImageManifest };
}

/** The descriptors a manifest references, each with its role. */
export function referencedDescriptors(m: ParsedManifest): { role: "config" | "layer" | "manifest"; desc: Descriptor }[] {
  if (m.kind === "index") return m.body.manifests.map((desc) => ({ role: "manifest" as const, desc }));
  return [{ role: "config" as const, desc: m.body.config }, ...m.body.layers.map((desc) => ({ role: "layer" as const, desc }))];
}
