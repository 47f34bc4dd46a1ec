import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { kubeconfigText, mergeKubeconfig } from "../../../src/cli/up/kubeconfig.js";

const entries = { server: "https://127.0.0.1:6443", ca: Buffer.from("CA PEM"), token: "tok" };

test("the kubeconfig names the server, the CA's data and the token", () => {
  const doc = parse(kubeconfigText(entries)) as Record<string, unknown>;
  assert.deepEqual(doc, {
    apiVersion: "v1", kind: "Config", preferences: {},
    clusters: [{ name: "podyard", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": Buffer.from("CA PEM").toString("base64") } }],
    users: [{ name: "podyard", user: { token: "tok" } }],
    contexts: [{ name: "podyard", context: { cluster: "podyard", user: "podyard", namespace: "default" } }],
    "current-context": "podyard",
  });
});

test("--write-kubeconfig merges the podyard context and keeps the others", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-kc-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, ".kube", "config");
  await mergeKubeconfig(path, entries);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  await writeFile(path, [
    "apiVersion: v1", "kind: Config", "current-context: work",
    "clusters:", "- name: work", "  cluster: {server: https://work.example}", "- name: podyard", "  cluster: {server: https://old}",
    "users:", "- name: work", "  user: {token: w}", "contexts:", "- name: work", "  context: {cluster: work, user: work}", "",
  ].join("\n"));
  await mergeKubeconfig(path, { ...entries, server: "https://127.0.0.1:7443" });
  const doc = parse(await readFile(path, "utf8")) as { clusters: { name: string; cluster: { server: string } }[]; users: { name: string }[]; contexts: { name: string }[]; "current-context": string };
  assert.deepEqual(doc.clusters.map((c) => [c.name, c.cluster.server]), [["work", "https://work.example"], ["podyard", "https://127.0.0.1:7443"]]);
  assert.deepEqual(doc.users.map((u) => u.name), ["work", "podyard"]);
  assert.deepEqual(doc.contexts.map((c) => c.name), ["work", "podyard"]);
  assert.equal(doc["current-context"], "podyard");
});
