/**
 * The real parts behind parts.ts: src/apiserver (with its SQLite storage), src/runtime's
 * OciRuntimeService, src/images' CRI image service and KubeletImageManager, src/kubelet and
 * its HTTPS server.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createApiServer, SqliteStorage } from "../../apiserver/index.js";
import { CriImageService, ImageGCManager, KubeletImageManager } from "../../images/index.js";
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
      // kubelet serving certificates are signed by the node's CA: verify them (--kubelet-certificate-authority)
      kubeletConnection: { clientCert: o.kubeletClient.cert, clientKey: o.kubeletClient.key, ca: o.kubeletCA },
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
    const nodeRef = { kind: "Node", apiVersion: "v1", name: o.nodeName, uid: o.nodeName };
    const imageGC = new ImageGCManager({
      imageService, config: o.imageConfig, clock: o.clock,
      imagesInUse: () => need().imagesInUse(),
      recordNodeEvent: (type, reason, message) => holder.kubelet?.recorder.event(nodeRef, type, reason, message),
      pruneRecords: (ids, t) => imageManager.pruneUnknownRecords(ids, t),
    });
    const server = createKubeletServer({ tls: o.kubeletTls, provider, clock: o.clock });
    const kubeletPort = await listenOn(server, { host: o.nodeIP, port: o.kubeletPort }, "the kubelet", "--kubelet-port");
    const kubelet = new Kubelet({
      client, nodeName: o.nodeName, runtime, imageService, imageManager, home: o.home, clock: o.clock, nodeIP: o.nodeIP, kubeletPort,
      helpers: defaultPodHelpers({ clock: o.clock, nodeIP: o.nodeIP }), log: o.log, imageGC,
      ...(o.podManifestPath !== undefined ? { podManifestPath: o.podManifestPath } : {}),
      ...(o.podPidsLimit !== undefined ? { podPidsLimit: o.podPidsLimit } : {}),
    });
    holder.kubelet = kubelet;
    try {
      // images already on the node count as seen long ago, so GC need not wait out their minimum age
      await imageGC.start().catch((err: unknown) => o.log(`image GC: detecting the node's images: ${err instanceof Error ? err.message : String(err)}`));
      await kubelet.start();
    } catch (err) {
      server.close();
      throw err;
    }
    return {
      kubeletPort,
      stop: async ({ removePods }) => {
        if (removePods) {
          // each pod's containers get SIGTERM and their grace period (Killing events), as on a drain
          await kubelet.stopAndRemoveAllPods();
          // what is left has no pod behind it (no pod UID label)
          for (const s of await runtime.listPodSandbox()) {
            await runtime.stopPodSandbox(s.id).catch((err: unknown) => o.log(`stopping sandbox ${s.id}: ${String(err)}`));
            await runtime.removePodSandbox(s.id).catch((err: unknown) => o.log(`removing sandbox ${s.id}: ${String(err)}`));
          }
          const podsDir = join(o.home, "kubelet", "pods");
          for (const uid of await readdir(podsDir).catch(() => [] as string[])) {
            await tearDownPodVolumes(join(podsDir, uid)).catch((err: unknown) => o.log(`removing the volumes of pod ${uid}: ${String(err)}`));
          }
        } else {
          await kubelet.stop();
        }
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        client.close();
        // the runtime's watch on conmon's exit files would keep the process alive; containers stay with conmon
        runtime.close();
      },
    };
  },
};
