/**
 * Pod volumes on the host (kubelet-pods §8): set up under `<podDir>/volumes/kubernetes.io~<plugin>/<name>`,
 * bind-mounted into containers by the runtime from the CRI mounts the kubelet builds.
 */
export { memoryVolumeSize, setUpPodVolumes, tearDownPodVolumes } from "./set-up.js";
export type { SetUpPodVolumesOptions } from "./set-up.js";
export { VolumeSetUpError } from "./types.js";
export type { MountedVolume, VolumeSources } from "./types.js";
export { writeAtomic, payloadPathError } from "./atomic-writer.js";
export type { Payload, FileProjection, WriteAtomicOptions } from "./atomic-writer.js";
export { containerResourceValue, formatMap, podFieldValue } from "./field-ref.js";
export { configMapBytes, secretBytes } from "./projection.js";
export { backstepsError, volumeDir } from "./paths.js";
export { isMountPoint, mountPoints } from "./mounts.js";
