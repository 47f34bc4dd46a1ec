/** The image manager's configuration checks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultImageManagerConfig, imageManagerConfigErrors, validateImageManagerConfig } from "../../../src/images/index.js";

test("defaults: serial unless maxParallelImagePulls ≥ 2, QPS 5 burst 10, GC 85/80 %, 2 min, NeverVerifyPreloadedImages", () => {
  const d = defaultImageManagerConfig();
  assert.equal(d.serializeImagePulls, true);
  assert.equal(d.maxParallelImagePulls, undefined);
  assert.deepEqual([d.registryPullQPS, d.registryBurst, d.imageGCHighThresholdPercent, d.imageGCLowThresholdPercent, d.imageMinimumGCAge], [5, 10, 85, 80, 120_000]);
  assert.equal(d.imagePullCredentialsVerificationPolicy, "NeverVerifyPreloadedImages");
  assert.equal(defaultImageManagerConfig({ maxParallelImagePulls: 1 }).serializeImagePulls, true);
  assert.equal(defaultImageManagerConfig({ maxParallelImagePulls: 3 }).serializeImagePulls, false);
});

test("invalid configurations are refused with the kubelet's messages", () => {
  const errs = (c: Parameters<typeof defaultImageManagerConfig>[0]): string[] => imageManagerConfigErrors(defaultImageManagerConfig(c));
  assert.deepEqual(errs({}), []);
  assert.deepEqual(errs({ maxParallelImagePulls: 0 }), ["invalid configuration: maxParallelImagePulls 0 must be a positive number"]);
  assert.deepEqual(errs({ serializeImagePulls: true, maxParallelImagePulls: 3 }), [
    "invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls (--serialize-image-pulls) is set to false",
  ]);
  assert.deepEqual(errs({ registryPullQPS: -1, registryBurst: -2 }), [
    "invalid configuration: registryBurst (--registry-burst) -2 must not be a negative number",
    "invalid configuration: registryPullQPS (--registry-qps) -1 must not be a negative number",
  ]);
  assert.deepEqual(errs({ imageGCHighThresholdPercent: 80, imageGCLowThresholdPercent: 80 }), [
    "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 80 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 80",
  ]);
  assert.deepEqual(errs({ imageMaximumGCAge: 60_000 }), ["invalid configuration: imageMaximumGCAge 1m0s must be greater than imageMinimumGCAge 2m0s"]);
  assert.deepEqual(errs({ imagePullCredentialsVerificationPolicy: "Sometimes" as never }), ["unknown image pull credential verification policy: Sometimes"]);
  assert.deepEqual(errs({ imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages", preloadedImagesVerificationAllowlist: ["reg.io/*", "reg.io/a/*b", "/*", "reg.io/app:v1", "reg.io/app", " reg.io/x", "nginx", "Bad/Name", ""] }), [
    "not a valid wildcard pattern, only patterns ending with '/*' are allowed: reg.io/a/*b",
    "at least registry hostname is required",
    "neither tag nor digest is accepted in an image reference: reg.io/app:v1",
    "leading/trailing spaces are not allowed:  reg.io/x",
    "neither tag nor digest is accepted in an image reference: nginx",
    "failed to parse as an image name: invalid reference format: repository name (Name) must be lowercase",
    "the supplied pattern is too short: ",
  ]);
  assert.throws(() => validateImageManagerConfig(defaultImageManagerConfig({ maxParallelImagePulls: 0, registryBurst: -1 })),
    /^InvalidArgumentError: \[invalid configuration: registryBurst \(--registry-burst\) -1 must not be a negative number, invalid configuration: maxParallelImagePulls 0 must be a positive number\]$/);
});
