/** A node with the busybox test image pulled, and an OciRuntimeService over it, for the runtime's tests. */
import type { TestContext } from "node:test";
import { readFile } from "node:fs/promises";
import { FakeClock } from "../../src/clock/index.js";
import { OciRuntimeService, type ContainerConfig, type PodSandboxConfig } from "../../src/runtime/index.js";
import { buildTestImage, openTestNode, pushLayout, type TestNode } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

export const RUNTIME = (process.env.PODYARD_TEST_RUNTIME === "runc" ? "runc" : "crun") as "crun" | "runc";

export interface RuntimeFixture {
  node: TestNode;
  image: string;
  newRuntime(clock?: FakeClock): Promise<OciRuntimeService>;
  close(): Promise<void>;
}

/** Builds and pulls the image once; call from `before`. */
export async function openRuntimeFixture(): Promise<RuntimeFixture> {
  const reg: TestRegistry = await startRegistry();
  const built = await buildTestImage();
  const host = new URL(reg.url).host;
  await pushLayout(reg.url, "pods/busybox", "v1", built);
  const node = await openTestNode();
  const image = `${host}/pods/busybox:v1`;
  await node.env.imageService.pull(image);
  const runtimes: OciRuntimeService[] = [];
  return {
    node,
    image,
    newRuntime: async (clock) => {
      const rt = new OciRuntimeService({ home: node.home, runtime: RUNTIME, images: node.env.imageService, snapshotter: node.env.snapshotter, ...(clock ? { clock } : {}) });
      await rt.init();
      runtimes.push(rt);
      return rt;
    },
    close: async () => {
      for (const rt of runtimes) {
        for (const sb of await rt.listPodSandbox()) await rt.removePodSandbox(sb.id).catch(() => undefined);
        rt.close();
      }
      await node.close();
      await reg.close();
      await built.cleanup();
    },
  };
}

let podCount = 0;
export function podConfig(name = `pod-${process.pid}-${++podCount}`, logDirectory?: string): PodSandboxConfig {
  return { metadata: { name, namespace: "default", uid: `uid-${name}`, attempt: 0 }, hostname: name, ...(logDirectory ? { logDirectory } : {}) };
}

export function containerConfig(image: string, name: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { metadata: { name, attempt: 0 }, image: { image }, logPath: `${name}/0.log`, ...extra };
}

/** Removes the sandbox even when the test failed. */
export function cleanupSandbox(t: TestContext, rt: OciRuntimeService, id: string): void {
  t.after(() => rt.removePodSandbox(id));
}

export async function mountinfo(): Promise<string> {
  return readFile("/proc/self/mountinfo", "utf8");
}
