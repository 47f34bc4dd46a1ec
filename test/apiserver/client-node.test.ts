/** @kubernetes/client-node 1.4 (what a kubelet or operator in TypeScript would use) against the server. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { startServer } from "./server-helper.js";

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "podyard", server, skipTLSVerify: true }],
    users: [{ name: "admin" }],
    contexts: [{ name: "podyard", cluster: "podyard", user: "admin" }],
    currentContext: "podyard",
  });
  return kc;
}

test("client-node creates, lists and watches pods, and patches their status", async (t) => {
  const s = await startServer(t);
  const kc = kubeConfig(s.url);
  const core = kc.makeApiClient(CoreV1Api);
  const seen: string[] = [];
  let wake: (() => void) | undefined;
  const req = await new Watch(kc).watch("/api/v1/namespaces/default/pods", { fieldSelector: "spec.nodeName=node1" }, (type, obj: { metadata: { name: string } }) => {
    seen.push(`${type} ${obj.metadata.name}`);
    wake?.();
  }, () => wake?.());
  t.after(() => req.abort());
  const created = await core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "web" }, spec: { nodeName: "node1", containers: [{ name: "c", image: "busybox:1.36" }] } } });
  assert.match(created.metadata?.uid ?? "", /^[0-9a-f-]{36}$/);
  await core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "elsewhere" }, spec: { nodeName: "node2", containers: [{ name: "c", image: "busybox:1.36" }] } } });
  const list = await core.listNamespacedPod({ namespace: "default" });
  assert.deepEqual(list.items.map((p) => p.metadata?.name), ["elsewhere", "web"]);
  assert.match(list.metadata?.resourceVersion ?? "", /^\d+$/);
  await core.deleteNamespacedPod({ namespace: "default", name: "web", gracePeriodSeconds: 0 });
  while (seen.length < 2) await new Promise<void>((r) => { wake = r; });
  assert.deepEqual(seen, ["ADDED web", "DELETED web"]);
});
