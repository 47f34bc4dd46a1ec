/**
 * The tutorial's two pods as vendored in examples/tutorial (byte-identical to the tutorial's
 * seed; test/cli/up/seed-pods.test.ts checks it), found from the repository, wherever it is.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const TUTORIAL_PODS_DIR = fileURLToPath(new URL("../../examples/tutorial/", import.meta.url));

export type TutorialPodFile = "shared-volume-pod.yaml" | "network-test-pod.yaml";

export function tutorialPodPath(name: TutorialPodFile): string {
  return join(TUTORIAL_PODS_DIR, name);
}
