/**
 * The image manager's share of the KubeletConfiguration: defaults (v1beta1 `SetDefaults_KubeletConfiguration`)
 * and validation (`ValidateKubeletConfiguration`), with the kubelet's messages.
 */
import { errorMessage, InvalidArgumentError } from "../../errdefs/index.js";
import { parseNormalizedNamed } from "../../reference/index.js";
import type { ImageManagerConfig } from "../image-manager-types.js";
import { aggregateMessage, formatGoDuration } from "../../gofmt/index.js";

export type CredentialVerificationPolicy = NonNullable<ImageManagerConfig["imagePullCredentialsVerificationPolicy"]>;

export interface ResolvedImageManagerConfig {
  serializeImagePulls: boolean;
  /** undefined: unlimited parallel pulls. */
  maxParallelImagePulls: number | undefined;
  registryPullQPS: number;
  registryBurst: number;
  ensureSecretPulledImages: boolean;
  imagePullCredentialsVerificationPolicy: CredentialVerificationPolicy;
  preloadedImagesVerificationAllowlist: string[];
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  imageMinimumGCAge: number;
  imageMaximumGCAge: number;
}

const POLICIES: readonly string[] = ["NeverVerify", "NeverVerifyPreloadedImages", "NeverVerifyAllowlistedImages", "AlwaysVerify"];

/** Fills the defaults: serial pulls unless maxParallelImagePulls ≥ 2, QPS 5 burst 10, GC 85/80 %, min age 2 min. */
export function defaultImageManagerConfig(config: ImageManagerConfig = {}): ResolvedImageManagerConfig {
  const max = config.maxParallelImagePulls;
  return {
    serializeImagePulls: config.serializeImagePulls ?? (max === undefined || max < 2),
    maxParallelImagePulls: max,
    registryPullQPS: config.registryPullQPS ?? 5,
    registryBurst: config.registryBurst ?? 10,
    ensureSecretPulledImages: config.ensureSecretPulledImages ?? true,
    imagePullCredentialsVerificationPolicy: config.imagePullCredentialsVerificationPolicy ?? "NeverVerifyPreloadedImages",
    preloadedImagesVerificationAllowlist: config.preloadedImagesVerificationAllowlist ?? [],
    imageGCHighThresholdPercent: config.imageGCHighThresholdPercent ?? 85,
    imageGCLowThresholdPercent: config.imageGCLowThresholdPercent ?? 80,
    imageMinimumGCAge: config.imageMinimumGCAge ?? 2 * 60_000,
    imageMaximumGCAge: config.imageMaximumGCAge ?? 0,
  };
}

/** The allowlist's problems (pullmanager `getAllowlistImagePattern`): `registry/repo` names or `prefix/*` wildcards. */
export function allowlistErrors(patterns: string[]): string[] {
  const errs: string[] = [];
  for (const p of patterns) {
    if (p.trim() !== p) {
      errs.push(`leading/trailing spaces are not allowed: ${p}`);
      continue;
    }
    const wildcard = p.endsWith("/*");
    const trimmed = wildcard ? p.slice(0, -1) : p;
    if (trimmed.length === 0) errs.push(`the supplied pattern is too short: ${p}`);
    else if (trimmed.includes("*")) errs.push(`not a valid wildcard pattern, only patterns ending with '/*' are allowed: ${p}`);
    else if (wildcard) {
      if (trimmed.length === 1) errs.push("at least registry hostname is required");
    } else {
      try {
        // Only the full name is accepted: no tag or digest, and no short Docker Hub form.
        if (parseNormalizedNamed(trimmed).name !== trimmed) errs.push(`neither tag nor digest is accepted in an image reference: ${p}`);
      } catch (err) {
        errs.push(`failed to parse as an image name: ${errorMessage(err)}`);
      }
    }
  }
  return errs;
}

/** The configuration's problems, each in the kubelet's words; empty when it is valid. */
export function imageManagerConfigErrors(config: ResolvedImageManagerConfig): string[] {
  // In ValidateKubeletConfiguration's order.
  const errs: string[] = [];
  const high = config.imageGCHighThresholdPercent;
  const low = config.imageGCLowThresholdPercent;
  if (high < 0 || high > 100) errs.push(`invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) ${high} must be between 0 and 100, inclusive`);
  if (low < 0 || low > 100) errs.push(`invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${low} must be between 0 and 100, inclusive`);
  if (low >= high) {
    errs.push(`invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${low} must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) ${high}`);
  }
  if (config.imageMaximumGCAge < 0) errs.push(`invalid configuration: imageMaximumGCAge ${formatGoDuration(config.imageMaximumGCAge)} must not be negative`);
  if (config.imageMaximumGCAge > 0 && config.imageMaximumGCAge <= config.imageMinimumGCAge) {
    errs.push(`invalid configuration: imageMaximumGCAge ${formatGoDuration(config.imageMaximumGCAge)} must be greater than imageMinimumGCAge ${formatGoDuration(config.imageMinimumGCAge)}`);
  }
  if (config.registryBurst < 0) errs.push(`invalid configuration: registryBurst (--registry-burst) ${config.registryBurst} must not be a negative number`);
  if (config.registryPullQPS < 0) errs.push(`invalid configuration: registryPullQPS (--registry-qps) ${config.registryPullQPS} must not be a negative number`);
  const max = config.maxParallelImagePulls;
  if (max !== undefined && max < 1) errs.push(`invalid configuration: maxParallelImagePulls ${max} must be a positive number`);
  if (config.serializeImagePulls && max !== undefined && max > 1) {
    errs.push("invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls (--serialize-image-pulls) is set to false");
  }
  const policy: string = config.imagePullCredentialsVerificationPolicy;
  if (!POLICIES.includes(policy)) errs.push(`unknown image pull credential verification policy: ${policy}`);
  errs.push(...allowlistErrors(config.preloadedImagesVerificationAllowlist));
  return errs;
}

/** Throws InvalidArgumentError carrying every problem (aggregated as the kubelet prints them). */
export function validateImageManagerConfig(config: ResolvedImageManagerConfig): void {
  const errs = imageManagerConfigErrors(config);
  if (errs.length > 0) throw new InvalidArgumentError(aggregateMessage(errs));
}
