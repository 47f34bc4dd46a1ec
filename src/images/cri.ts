/**
 * The CRI image service the kubelet calls (k8s.io/cri-api runtime/v1 api.proto,
 * `service ImageService`), with the messages' field names in camelCase. Optional
 * message fields are optional properties; int64/uint64 wrappers keep their `value`.
 */

/** An image reference or ID, with what the kubelet knows about it. */
export interface ImageSpec {
  /** A reference (`busybox`, `registry/app@sha256:…`) or an image ID (`sha256:…`). */
  image: string;
  annotations?: Record<string, string>;
  /** The image as the pod spec wrote it, before the kubelet resolved it. */
  userSpecifiedImage?: string;
  runtimeHandler?: string;
}

/** Credentials for one pull (a pod's pull secret): username and password, `auth` (base64 `user:password`), or an identity token. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  /** The registry these credentials are for; when it is not the image's, they are not used. */
  serverAddress?: string;
  identityToken?: string;
  /** A bearer token for the registry itself (not supported: ignored, as containerd does). */
  registryToken?: string;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

/** The part of a sandbox's configuration an image pull may look at. */
export interface PodSandboxConfig {
  metadata?: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Int64Value {
  value: number;
}

export interface UInt64Value {
  value: number;
}

/** One image on the node. */
export interface Image {
  /** The image ID (config digest). */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** Bytes of the image's content (config and layer blobs), as containerd reports it. */
  size: number;
  /** The image config's user when it is a number (then `username` is empty). */
  uid?: Int64Value;
  /** The image config's user when it is a name. */
  username: string;
  spec?: ImageSpec;
  /** Kept by image garbage collection whatever its age (the sandbox image). */
  pinned: boolean;
}

export interface ImageFilter {
  image?: ImageSpec;
}

export interface FilesystemIdentifier {
  mountpoint: string;
}

export interface FilesystemUsage {
  /** Nanoseconds since the epoch when the usage was read. */
  timestamp: bigint;
  fsId: FilesystemIdentifier;
  usedBytes: UInt64Value;
  inodesUsed: UInt64Value;
}

export interface ImageFsInfoResponse {
  imageFilesystems: FilesystemUsage[];
  containerFilesystems: FilesystemUsage[];
}

export interface PullImageResponse {
  /** The image ID of what was pulled. */
  imageRef: string;
}

export interface ImageStatusResponse {
  /** Absent when the image is not on the node. */
  image?: Image;
  /** With `verbose`: `info` holds JSON of the image's chain ID and config. */
  info: Record<string, string>;
}

/** CRI's ImageService: what the kubelet asks of the node's images. */
export interface ImageService {
  /** The node's images, or the one `filter.image` names (none when it is absent). */
  listImages(filter?: ImageFilter): Promise<Image[]>;
  /** The image, or `{ image: undefined }` when it is not here (not an error). */
  imageStatus(image: ImageSpec, verbose?: boolean): Promise<ImageStatusResponse>;
  /** Pulls the image; `auth`, when given, is used for this pull instead of the node's logins. */
  pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<PullImageResponse>;
  /** Removes the image (every name of it); removing an absent image is not an error. */
  removeImage(image: ImageSpec): Promise<void>;
  /** What the content store and the snapshots use. */
  imageFsInfo(): Promise<ImageFsInfoResponse>;
}
