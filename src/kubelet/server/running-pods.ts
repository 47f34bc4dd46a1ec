/** /runningpods/: the pods the runtime has, as a PodList built from sandboxes and their containers (kubelet's runtime cache view). */
import type { Pod } from "../../api/index.js";
import type { RuntimeService } from "../../runtime/index.js";

export async function runningPods(runtime: RuntimeService): Promise<Pod[]> {
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandbox({ state: { state: "SANDBOX_READY" } }), runtime.listContainers({ state: { state: "CONTAINER_RUNNING" } })]);
  return sandboxes.map((sb) => ({
    metadata: { name: sb.metadata.name, namespace: sb.metadata.namespace, uid: sb.metadata.uid },
    spec: {
      containers: containers
        .filter((c) => c.podSandboxId === sb.id)
        .map((c) => ({ name: c.metadata.name, image: c.image.image })),
    },
  }));
}
