import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Pod } from "../../../src/api/index.js";
import { KubeApiError, KubeClient, loadKubeconfig, Reflector } from "../../../src/kubelet/client/index.js";
import { FakeApiServer } from "../fake-apiserver.js";

const pod = (name: string, nodeName = "n1"): Pod => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName, containers: [{ name: "c", image: "busybox" }] } });
const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 1500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "condition not reached");
};

test("the reflector lists, then watches from the list's resourceVersion, only the node's pods", async (t) => {
  const api = new FakeApiServer();
  await api.start();
  t.after(() => api.close());
  api.put("/api/v1/namespaces/default/pods", pod("a"));
  api.put("/api/v1/namespaces/default/pods", pod("other", "n2"));
  const client = new KubeClient({ server: api.url });
  t.after(() => client.close());
  const seen: string[] = [];
  const r = new Reflector<Pod>({
    client, path: "/api/v1/pods", query: { fieldSelector: "spec.nodeName=n1" },
    handler: { onAdd: (p) => seen.push(`add ${p.metadata.name}`), onUpdate: (p) => seen.push(`update ${p.metadata.name}`), onDelete: (p) => seen.push(`delete ${p.metadata.name}`) },
  });
  const ac = new AbortController();
  const run = r.run(ac.signal);
  await r.waitForSync();
  assert.deepEqual(seen, ["add a"]);
  api.put("/api/v1/namespaces/default/pods", pod("b"));
  await until(() => seen.length === 2);
  api.remove("/api/v1/namespaces/default/pods/a");
  await until(() => seen.length === 3);
  assert.deepEqual(seen, ["add a", "add b", "delete a"]);
  const watch = api.requests("GET", /\/api\/v1\/pods$/).find((l) => l.query.get("watch") === "true");
  assert.equal(watch?.query.get("resourceVersion"), "102");
  assert.equal(watch?.query.get("allowWatchBookmarks"), "true");
  assert.equal(watch?.query.get("fieldSelector"), "spec.nodeName=n1");
  ac.abort();
  await run;
});

test("a watch the server ends resumes from the last resourceVersion; a 410 relists and reports what changed meanwhile", async (t) => {
  const api = new FakeApiServer();
  await api.start();
  t.after(() => api.close());
  api.put("/api/v1/namespaces/default/pods", pod("a"));
  const client = new KubeClient({ server: api.url });
  t.after(() => client.close());
  const seen: string[] = [];
  const r = new Reflector<Pod>({
    client, path: "/api/v1/pods", query: { fieldSelector: "spec.nodeName=n1" },
    handler: { onAdd: (p) => seen.push(`add ${p.metadata.name}`), onDelete: (p) => seen.push(`delete ${p.metadata.name}`) },
  });
  const ac = new AbortController();
  const run = r.run(ac.signal);
  await r.waitForSync();
  api.put("/api/v1/namespaces/default/pods", pod("b"));
  await until(() => seen.length === 2);
  api.dropWatches();
  await until(() => api.watchers.length === 1);
  assert.equal(r.lists, 1, "an ended watch does not relist");
  // while no watch runs, the history is compacted and things change
  api.watchers[0]?.res.destroy();
  api.compact();
  api.remove("/api/v1/namespaces/default/pods/a");
  api.compact();
  api.put("/api/v1/namespaces/default/pods", pod("c"));
  await until(() => seen.includes("add c") && seen.includes("delete a"));
  assert.ok(r.lists >= 2, "410 made it list again");
  assert.deepEqual(r.items().map((p) => p.metadata.name).sort(), ["b", "c"]);
  ac.abort();
  await run;
});

test("errors carry the API's Status; kubeconfig gives server, token and CA", async (t) => {
  const api = new FakeApiServer();
  await api.start();
  t.after(() => api.close());
  const dir = await mkdtemp(join(tmpdir(), "kubelet-kc-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "ca.crt"), "CA");
  await writeFile(join(dir, "kubeconfig"), [
    "apiVersion: v1", "kind: Config", "current-context: c",
    "clusters:", `- name: k`, `  cluster: {server: "${api.url}/", certificate-authority: ca.crt}`,
    "users:", "- name: u", "  user: {token: abc}",
    "contexts:", "- name: c", "  context: {cluster: k, user: u}",
  ].join("\n"));
  const cfg = await loadKubeconfig(join(dir, "kubeconfig"));
  assert.equal(cfg.server, api.url);
  assert.equal(cfg.token, "abc");
  assert.equal(cfg.ca?.toString(), "CA");
  const client = new KubeClient({ server: api.url, token: "abc" });
  t.after(() => client.close());
  await assert.rejects(client.get("/api/v1/namespaces/default/pods/nope"), (err: unknown) => {
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.httpStatus, 404);
    assert.equal(err.reason, "NotFound");
    return true;
  });
  await client.patch("/api/v1/namespaces/default/pods/nope/status", { status: {} }, "merge").catch(() => {});
  assert.equal(api.log.at(-1)?.contentType, "application/merge-patch+json");
});
