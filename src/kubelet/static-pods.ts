/**
 * Static pods (the kubelet's staticPodPath, pkg/kubelet/config/file.go): one pod a file (YAML or
 * JSON) in a folder, rescanned every 20 s. As the kubelet does, the pod's UID is a hash of the
 * manifest, the node and the file; its name gets `-<node>`; it is bound to this node. Each has a
 * mirror pod in the API (annotation kubernetes.io/config.mirror) carrying its status; the mirror
 * goes when the file goes.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { defaultImagePullPolicy, formatTime, type Pod } from "../api/index.js";
import type { Clock } from "../clock/index.js";
import { isApiStatus, type KubeClient } from "./client/index.js";
import { errorMessage } from "../errdefs/index.js";

export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
export const CONFIG_HASH_ANNOTATION = "kubernetes.io/config.hash";
export const CONFIG_SOURCE_ANNOTATION = "kubernetes.io/config.source";
export const CONFIG_SEEN_ANNOTATION = "kubernetes.io/config.seen";

/** A manifest turned into the pod the kubelet runs (config/common.go applyDefaults). */
export function staticPodFromManifest(doc: unknown, file: string, nodeName: string, nowMs: number): Pod {
  if (!doc || typeof doc !== "object") throw new Error(`${file}: not a pod manifest`);
  const pod = structuredClone(doc) as Pod;
  if (pod.kind && pod.kind !== "Pod") throw new Error(`${file}: kind ${pod.kind} is not Pod`);
  if (!pod.metadata?.name) throw new Error(`${file}: metadata.name is required`);
  if (!pod.spec || !Array.isArray(pod.spec.containers)) throw new Error(`${file}: spec.containers is required`);
  const h = createHash("md5");
  h.update(JSON.stringify(doc));
  h.update(`host:${nodeName}`);
  h.update(`file:${file}`);
  const uid = h.digest("hex");
  pod.apiVersion = "v1";
  pod.kind = "Pod";
  pod.metadata.uid = uid;
  pod.metadata.name = `${pod.metadata.name}-${nodeName}`;
  pod.metadata.namespace ??= "default";
  pod.metadata.annotations = { ...pod.metadata.annotations, [CONFIG_HASH_ANNOTATION]: uid, [CONFIG_SOURCE_ANNOTATION]: "file", [CONFIG_SEEN_ANNOTATION]: new Date(nowMs).toISOString() };
  pod.metadata.creationTimestamp ??= formatTime(nowMs);
  pod.spec.nodeName = nodeName;
  pod.spec.restartPolicy ??= "Always";
  pod.spec.terminationGracePeriodSeconds ??= 30;
  pod.spec.dnsPolicy ??= "ClusterFirst";
  pod.spec.tolerations = [...(pod.spec.tolerations ?? []), { operator: "Exists", effect: "NoExecute" }];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    c.imagePullPolicy ??= defaultImagePullPolicy(c.image ?? "");
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
  }
  return pod;
}

export interface StaticPodSourceOptions {
  dir: string;
  nodeName: string;
  clock: Clock;
  log(msg: string): void;
  onAdd(pod: Pod): void;
  onUpdate(pod: Pod): void;
  onRemove(pod: Pod): void;
}

export class StaticPodSource {
  readonly #o: StaticPodSourceOptions;
  /** file → pod */
  readonly #pods = new Map<string, Pod>();

  constructor(opts: StaticPodSourceOptions) {
    this.#o = opts;
  }

  pods(): Pod[] {
    return [...this.#pods.values()];
  }

  byName(namespace: string, name: string): Pod | undefined {
    return this.pods().find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
  }

  async scan(): Promise<void> {
    const names = await readdir(this.#o.dir).catch(() => [] as string[]);
    const seen = new Set<string>();
    for (const n of names.sort()) {
      if (n.startsWith(".") || !/\.(ya?ml|json)$/i.test(n)) continue;
      const file = join(this.#o.dir, n);
      let pod: Pod;
      try {
        pod = staticPodFromManifest(parse(await readFile(file, "utf8")), file, this.#o.nodeName, this.#o.clock.now());
      } catch (err) {
        this.#o.log(`static pod ${file}: ${errorMessage(err)}`);
        continue;
      }
      seen.add(file);
      const old = this.#pods.get(file);
      if (old?.metadata.uid === pod.metadata.uid) continue;
      this.#pods.set(file, pod);
      if (old) this.#o.onRemove(old);
      this.#o.onAdd(pod);
    }
    for (const [file, pod] of this.#pods) {
      if (seen.has(file)) continue;
      this.#pods.delete(file);
      this.#o.onRemove(pod);
    }
  }

  /** Creates the pod's mirror in the API unless one with the same hash is there. */
  async ensureMirror(pod: Pod, client: KubeClient): Promise<void> {
    const ns = pod.metadata.namespace ?? "default";
    const path = `/api/v1/namespaces/${ns}/pods/${pod.metadata.name ?? ""}`;
    const hash = pod.metadata.uid ?? "";
    const existing = await client.get<Pod>(path).catch((err: unknown) => {
      if (isApiStatus(err, 404)) return undefined;
      throw err;
    });
    if (existing && existing.metadata.annotations?.[MIRROR_ANNOTATION] === hash) return;
    if (existing) await client.delete(path, { gracePeriodSeconds: 0 }).catch(() => {});
    const mirror: Pod = {
      apiVersion: "v1", kind: "Pod",
      metadata: {
        name: pod.metadata.name ?? "", namespace: ns,
        ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
        annotations: { ...pod.metadata.annotations, [MIRROR_ANNOTATION]: hash },
      },
      spec: pod.spec,
    };
    await client.create(`/api/v1/namespaces/${ns}/pods`, mirror).catch((err: unknown) => {
      if (!isApiStatus(err, 409)) throw err;
    });
  }

  async deleteMirror(pod: Pod, client: KubeClient): Promise<void> {
    const ns = pod.metadata.namespace ?? "default";
    await client.delete(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name ?? ""}`, { gracePeriodSeconds: 0 }).catch((err: unknown) => {
      if (!isApiStatus(err, 404)) throw err;
    });
  }
}
