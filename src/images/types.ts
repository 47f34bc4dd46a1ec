/**
 * The narrow interfaces the image service needs from the parts below it (STYLE.md R12):
 * a registry client per reference, the content store, image records and the unpacker.
 */
import type { Readable } from "node:stream";
import type { Descriptor, Digest, Platform } from "../oci/index.js";
import type { Reference } from "../reference/index.js";

export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

/** What pulling needs from a registry, for one repository (one endpoint, or mirrors then upstream). */
export interface PullClient {
  resolve(ref: string): Promise<Descriptor>;
  getManifest(ref: string): Promise<FetchedManifest>;
  fetchBlob(digest: Digest, opts?: { offset?: number; size?: number; verify?: boolean }): Promise<Readable>;
}

/** What pushing needs from a registry. */
export interface PushClient {
  blobExists(repo: string, digest: Digest): Promise<boolean>;
  pushBlob(repo: string, body: Readable, opts: { digest: Digest; size: number }): Promise<{ digest: Digest; size: number }>;
  mountBlob(repo: string, digest: Digest, from: string): Promise<boolean>;
  putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<Digest>;
}

/** A user name and password (or `<token>` and an identity token) for one registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Finds the client for a reference's registry (hosts configuration, mirrors, credentials). */
export interface RegistryResolver {
  /** `opts.credentials`: for the reference's registry, instead of the node's, for this client only. */
  puller(ref: Reference, opts?: { credentials?: RegistryCredentials }): PullClient;
  pusher(ref: Reference): Promise<PushClient>;
}

/** Progress of one pull, as `docker pull` shows it. */
export type PullEvent =
  | { kind: "resolved"; ref: string; digest: Digest; layers: Descriptor[] }
  | { kind: "layer"; digest: Digest; status: LayerStatus; current?: number; total?: number };

export type LayerStatus =
  | "Pulling fs layer"
  | "Already exists"
  | "Downloading"
  | "Verifying Checksum"
  | "Download complete"
  | "Extracting"
  | "Pull complete";

export interface PullOptions {
  platform?: Platform;
  onProgress?: (e: PullEvent) => void;
}

export interface PullResult {
  name: string;
  digest: Digest;
  configDigest: Digest;
  /** false when the image was already here under this name and digest */
  downloaded: boolean;
}
