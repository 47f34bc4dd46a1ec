import { join } from "node:path";
import type { Volume } from "../../api/index.js";

/** The plugin directory name of each volume kind under `<podDir>/volumes` (`kubernetes.io~<plugin>`). */
export function volumePluginName(volume: Volume): string | undefined {
  if (volume.emptyDir) return "empty-dir";
  if (volume.configMap) return "configmap";
  if (volume.secret) return "secret";
  if (volume.downwardAPI) return "downward-api";
  if (volume.projected) return "projected";
  return undefined;
}

/** `<podDir>/volumes` */
export function podVolumesDir(podDir: string): string {
  return join(podDir, "volumes");
}

/** `<podDir>/volumes/kubernetes.io~<plugin>/<name>` */
export function volumeDir(podDir: string, plugin: string, name: string): string {
  return join(podVolumesDir(podDir), `kubernetes.io~${plugin}`, name);
}

/**
 * The error for a path that steps out with `..` (`ValidatePathNoBacksteps`), or undefined.
 * Any element equal to `..` counts, wherever it is.
 */
export function backstepsError(path: string): string | undefined {
  return path.split("/").includes("..") ? "must not contain '..'" : undefined;
}
