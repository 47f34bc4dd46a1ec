/**
 * A real API server (SQLite in memory, plain HTTP on a free loopback port), the real runtime of a
 * RuntimeFixture and a Kubelet on them, for tests that run pods end to end without `podyard up`.
 * Everything is stopped, and every sandbox removed, after the test.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { join } from "node:path";
import { createApiServer, SqliteStorage, type ApiServer } from "../../src/apiserver/index.js";
import { CriImageService, KubeletImageManager } from "../../src/images/index.js";
import { Kubelet, KubeClient, type KubeletOptions } from "../../src/kubelet/index.js";
import type { OciRuntimeService } from "../../src/runtime/index.js";
import type { RuntimeFixture } from "../runtime/runtime-fixture.js";

export interface RealKubeletStack { client: KubeClient; rt: OciRuntimeService; kubelet: Kubelet; nodeName: string }

export async function startRealKubeletStack(
  t: TestContext, f: RuntimeFixture,
  opts: { nodeName?: string } & Pick<Partial<KubeletOptions>, "podManifestPath" | "podPidsLimit"> = {},
): Promise<RealKubeletStack> {
  const { nodeName = `node-${process.pid}`, ...kubeletOpts } = opts;
  const storage = new SqliteStorage(":memory:");
  const api: ApiServer = createApiServer({ storage });
  const server = http.createServer();
  api.listen(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await api.ready;
  const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const rt = await f.newRuntime();
  const cri = new CriImageService({ images: f.node.env.imageService, contentDir: f.node.env.content.root, snapshotsDir: f.node.env.snapshotter.root });
  const imageManager = new KubeletImageManager({ imageService: cri, stateDir: join(f.node.home, "kubelet") });
  const kubelet = new Kubelet({ client, nodeName, runtime: rt, imageService: cri, imageManager, home: f.node.home, ...kubeletOpts, log: () => {} });
  t.after(async () => {
    await kubelet.stop();
    for (const sb of await rt.listPodSandbox()) await rt.removePodSandbox(sb.id).catch(() => {});
    client.close();
    await api.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    storage.close();
  });
  await kubelet.start();
  return { client, rt, kubelet, nodeName };
}

/** Polls `f` every 100 ms until it gives a value (errors count as none), for at most `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
