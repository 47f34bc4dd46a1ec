/** @kubernetes/client-node 1.4 against podyard up: list, watch, create and exec, as a program uses the API. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { cleanupImages, pushAlpine, startUp, waitFor } from "./helpers/node.js";

after(killLeftoverChildren);
after(cleanupImages);

test("client-node lists, watches, creates and execs", async (t) => {
  const node = await startUp(t);
  await pushAlpine(t, node);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(node.info.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);

  const nodes = await core.listNode();
  assert.deepEqual(nodes.items.map((n) => n.metadata?.name), ["node1"]);

  const events: string[] = [];
  const watch = new k8s.Watch(kc);
  const req = await watch.watch("/api/v1/namespaces/default/pods", {}, (type: string, obj: k8s.V1Pod) => {
    events.push(`${type} ${obj.metadata?.name ?? ""} ${obj.status?.phase ?? ""}`);
  }, () => {});
  t.after(() => req.abort());

  await core.createNamespacedPod({
    namespace: "default",
    body: { apiVersion: "v1", kind: "Pod", metadata: { name: "from-client" }, spec: { containers: [{ name: "app", image: "alpine", command: ["sleep", "3600"] }] } },
  });
  await waitFor("the watch to see it Running", () => (events.some((e) => e === "MODIFIED from-client Running") ? true : undefined), 120_000, 100);
  assert.equal(events[0], "ADDED from-client Pending");
  const list = await core.listNamespacedPod({ namespace: "default" });
  assert.deepEqual(list.items.map((p) => p.metadata?.name), ["from-client"]);

  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    void new k8s.Exec(kc).exec("default", "from-client", "app", ["sh", "-c", "echo from exec; exit 4"], stdout, null, null, false, (s) => resolve(s)).catch(reject);
  });
  assert.equal(out, "from exec\n");
  assert.equal(status.status, "Failure");
  assert.equal(status.reason, "NonZeroExitCode");
  assert.equal(status.details?.causes?.[0]?.message, "4");
  await core.deleteNamespacedPod({ name: "from-client", namespace: "default", gracePeriodSeconds: 1 });
});
