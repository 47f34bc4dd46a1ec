import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { ConfigMap, Container, Pod, Secret } from "../../../src/api/index.js";
import type { VolumeSources } from "../../../src/runtime/index.js";

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-cc-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function pod(container: Partial<Container> = {}, spec: Partial<Pod["spec"]> = {}): Pod {
  return {
    metadata: { name: "web", namespace: "default", uid: "1234", labels: { app: "web", "tier": "front" }, annotations: { owner: "me" } },
    spec: { nodeName: "node1", serviceAccountName: "default", containers: [{ name: "app", image: "busybox", ...container }], ...spec },
  };
}

export function sources(cms: ConfigMap[] = [], secrets: Secret[] = []): VolumeSources {
  return {
    getConfigMap: async (ns, name) => cms.find((c) => c.metadata?.name === name && (c.metadata?.namespace ?? "default") === ns),
    getSecret: async (ns, name) => secrets.find((s) => s.metadata?.name === name && (s.metadata?.namespace ?? "default") === ns),
  };
}

export const b64 = (s: string): string => Buffer.from(s).toString("base64");
