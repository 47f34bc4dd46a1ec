import type { ConfigMap, Secret } from "../../api/index.js";
import { FailedPreconditionError } from "../../errdefs/index.js";

/** Where volumes and env read ConfigMaps and Secrets: the kubelet answers from the API server. */
export interface VolumeSources {
  /** The object, or undefined when the API server has none of that name. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** A volume set up on the host, ready to be bind-mounted into the pod's containers. */
export interface MountedVolume {
  name: string;
  /** The directory (or, for a hostPath of a file, the file) to bind into containers. */
  hostPath: string;
  /** The volume itself is read-only (configMap, secret, downwardAPI, projected). */
  readOnly: boolean;
  /** The directory is a tmpfs the kubelet mounted (emptyDir medium Memory, secret). */
  tmpfs?: boolean;
}

/**
 * A volume that could not be set up. `message` is the kubelet's event text,
 * `MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found`; `detail` the part after
 * the colon. When several volumes failed, `failures` holds each (this one first).
 */
export class VolumeSetUpError extends FailedPreconditionError {
  readonly volume: string;
  readonly detail: string;
  failures: VolumeSetUpError[] = [this];
  constructor(volume: string, detail: string, options?: ErrorOptions) {
    super(`MountVolume.SetUp failed for volume ${JSON.stringify(volume)} : ${detail}`, options);
    this.volume = volume;
    this.detail = detail;
  }
}

/** A failure inside one volume plugin, whose text becomes a VolumeSetUpError's detail. */
export class VolumePluginError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VolumePluginError";
  }
}
