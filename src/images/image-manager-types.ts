/**
 * What the kubelet asks of the image manager (pkg/kubelet/images `ImageManager`): make sure a
 * container's image is on the node, by the container's pull policy, with the pod's credentials,
 * recording the kubelet's image events. Implemented over the CRI ImageService.
 */
import type { Container, Pod, Secret } from "../api/index.js";
import type { PodSandboxConfig } from "./cri.js";

/** The reasons EnsureImageExists fails with (`state.waiting.reason`), kubelet-images §3.1. */
export type ImageErrorReason =
  | "ErrImagePull"
  | "ImagePullBackOff"
  | "ErrImageNeverPull"
  | "InvalidImageName"
  | "ImageInspectError"
  | "RegistryUnavailable"
  | "SignatureValidationFailed";

/** Records one kubelet event on the container (involvedObject fieldPath `spec.containers{name}`). */
export type ContainerEventRecorder = (type: "Normal" | "Warning", reason: string, message: string) => void;

export interface EnsureImageRequest {
  pod: Pod;
  container: Container;
  /** The pod's imagePullSecrets that could be read (kubernetes.io/dockerconfigjson or dockercfg). */
  pullSecrets: Secret[];
  sandboxConfig?: PodSandboxConfig;
  record: ContainerEventRecorder;
}

export type EnsureImageResult =
  | { ok: true; imageRef: string; message: string }
  | { ok: false; reason: ImageErrorReason; message: string };

export interface ImageManager {
  ensureImageExists(req: EnsureImageRequest): Promise<EnsureImageResult>;
}

/** The kubelet configuration fields the image manager reads (KubeletConfiguration v1beta1 names). */
export interface ImageManagerConfig {
  /** Default: true unless maxParallelImagePulls ≥ 2. */
  serializeImagePulls?: boolean;
  maxParallelImagePulls?: number;
  /** 0 = unlimited; default 5. */
  registryPullQPS?: number;
  registryBurst?: number;
  imagePullCredentialsVerificationPolicy?: "NeverVerify" | "NeverVerifyPreloadedImages" | "NeverVerifyAllowlistedImages" | "AlwaysVerify";
  preloadedImagesVerificationAllowlist?: string[];
  imageGCHighThresholdPercent?: number;
  imageGCLowThresholdPercent?: number;
  /** Milliseconds; default 2 min. */
  imageMinimumGCAge?: number;
  /** Milliseconds; 0 (default) = no maximum age. */
  imageMaximumGCAge?: number;
  /** The KubeletEnsureSecretPulledImages gate (beta, on by default): present images need proof of access. */
  ensureSecretPulledImages?: boolean;
}
