/**
 * The real parts behind parts.ts: src/apiserver (with its SQLite storage), src/runtime's
 * OciRuntimeService, src/images' CRI image service and KubeletImageManager, src/kubelet and
 * its HTTPS server.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createApiServer, SqliteStorage } from "../../apiserver/index.js";
import { CriImageService, KubeletImageManager } from "../../images/index.js";
import { createKubeletServer, defaultPodHelpers, KubeClient, Kubelet, loadKubeconfig, type KubeletProvider } from "../../kubelet/index.js";
import { OciRuntimeService, tearDownPodVolumes } from "../../runtime/index.js";
import { listenOn } from "./listen.js";
import type { AgentParts, RunningNode } from "./parts.js";

export const realParts: AgentParts = {
  async startApiServer(o) {
    const storage = new SqliteStorage(join(o.home, "apiserver", "state.db"));
    const api = createApiServer({
      storage,
      authenticate: o.authenticate,
      kubeletConnection: { clientCert: o.kubeletClient.cert, clientKey: o.kubeletClient.key },
      serverAddress: o.serverAddress,
      clock: o.clock,
    });
    api.listen(o.server);
    return {
      close: async () => {
        await api.close();
        storage.close();
      },
    };
  },

  async startNode(o): Promise<RunningNode> {
    const runtime = new OciRuntimeService({ home: o.home, runtime: o.runtime, images: o.env.imageService, snapshotter: o.env.snapshotter, clock: o.clock });
    await runtime.init();
    const imageService = new CriImageService({ images: o.env.imageService, contentDir: join(o.home, "content"), snapshotsDir: join(o.home, "snapshots"), clock: o.clock });
    const imageManager = new KubeletImageManager({ imageService, config: o.imageConfig, clock: o.clock, stateDir: join(o.home, "kubelet") });
    const client = new KubeClient(await loadKubeconfig(o.kubeconfigPath));
    // the server listens before the kubelet exists, so a port 0 is known when the node registers
    const holder: { kubelet?: Kubelet } = {};
    const need = (): Kubelet => {
      if (!holder.kubelet) throw new Error("the kubelet is starting");
      return holder.kubelet;
    };
    const provider: KubeletProvider = {
      pods: () => holder.kubelet?.pods() ?? [],
      lookupContainer: (ns, pod, c, opts) => need().lookupContainer(ns, pod, c, opts),
      lookupSandbox: (ns, pod) => need().lookupSandbox(ns, pod),
      runtime,
      statsSummary: () => need().statsSummary(),
    };
    const server = createKubeletServer({ tls: o.kubeletTls, provider, clock: o.clock });
    const kubeletPort = await listenOn(server, { host: o.nodeIP, port: o.kubeletPort }, "the kubelet", "--kubelet-port");
    const kubelet = new Kubelet({
      client, nodeName: o.nodeName, runtime, imageService, imageManager, home: o.home, clock: o.clock, nodeIP: o.nodeIP, kubeletPort,
      helpers: defaultPodHelpers({ clock: o.clock, nodeIP: o.nodeIP }), log: o.log,
      ...(o.podManifestPath !== undefined ? { podManifestPath: o.podManifestPath } : {}),
    });
    holder.kubelet = kubelet;
    try {
      await kubelet.start();
    } catch (err) {
      server.close();
      throw err;
    }
    return {
      kubeletPort,
      stop: async ({ removePods }) => {
        await kubelet.stop();
        if (removePods) {
          for (const s of await runtime.listPodSandbox()) {
            await runtime.stopPodSandbox(s.id).catch((err: unknown) => o.log(`stopping sandbox ${s.id}: ${String(err)}`));
            await runtime.removePodSandbox(s.id).catch((err: unknown) => o.log(`removing sandbox ${s.id}: ${String(err)}`));
          }
          const podsDir = join(o.home, "kubelet", "pods");
          for (const uid of await readdir(podsDir).catch(() => [] as string[])) {
            await tearDownPodVolumes(join(podsDir, uid)).catch((err: unknown) => o.log(`removing the volumes of pod ${uid}: ${String(err)}`));
          }
        }
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        client.close();
      },
    };
  },
};
