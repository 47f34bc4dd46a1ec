/**
 * The real kubectl (/usr/bin/kubectl, the version dispatcher) against our API server:
 * apply of the tutorial's seed pods, get, -o yaml, delete that waits for DELETED, and the
 * protobuf body of `create secret docker-registry`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tutorialPodPath, type TutorialPodFile } from "../helpers/tutorial-pods.js";
import { call, pod, startServer, watch, type TestServer } from "./server-helper.js";

const KUBECTL = "/usr/bin/kubectl";
const skip = existsSync(KUBECTL) ? false : `${KUBECTL} is not installed`;
if (skip) console.log(`# skipping kubectl tests: ${skip}`);

interface Run { code: number; stdout: string; stderr: string }

function kubectlFor(t: { after: (fn: () => void) => void }, s: TestServer): (...args: string[]) => Promise<Run> {
  const cache = mkdtempSync(join(tmpdir(), "podyard-kubecache-"));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  return (...args) => new Promise((resolve) => {
    execFile(KUBECTL, [`--server=${s.url}`, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cache, KUBECACHEDIR: join(cache, "cache"), KUBECONFIG: join(cache, "no-kubeconfig") },
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function seedPath(name: TutorialPodFile): string {
  return tutorialPodPath(name);
}

test("kubectl apply -f the seed pods, get pods, get -o yaml, apply again (unchanged)", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  for (const f of ["shared-volume-pod.yaml", "network-test-pod.yaml"] as const) {
    const r = await kubectl("apply", "-f", seedPath(f));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `pod/${f.replace(".yaml", "")} created`);
  }
  const get = await kubectl("get", "pods");
  assert.equal(get.code, 0, get.stderr);
  const lines = get.stdout.trim().split("\n");
  assert.match(lines[0] ?? "", /^NAME\s/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ["network-test-pod", "shared-volume-pod"]);
  const yaml = await kubectl("get", "pod", "shared-volume-pod", "-o", "yaml");
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.match(yaml.stdout, /^kind: Pod$/m);
  assert.match(yaml.stdout, /^ {2}name: shared-volume-pod$/m);
  assert.match(yaml.stdout, /^ {2}uid: [0-9a-f-]{36}$/m);
  assert.match(yaml.stdout, /kubectl.kubernetes.io\/last-applied-configuration/);
  const again = await kubectl("apply", "-f", seedPath("shared-volume-pod.yaml"));
  assert.equal(again.stdout.trim(), "pod/shared-volume-pod unchanged");
  const ns = await kubectl("get", "namespaces", "-o", "name");
  assert.deepEqual(ns.stdout.trim().split("\n"), ["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]);
  const missing = await kubectl("get", "pod", "nope");
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
});

test("kubectl delete pod returns once the kubelet's grace-0 delete removes a bound pod; an unbound pod goes at once", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  await call(s.url, "POST", "/api/v1/namespaces/default/pods", pod("bound", { nodeName: "node1" }));
  await call(s.url, "POST", "/api/v1/namespaces/default/pods", pod("loose"));
  // A stand-in kubelet: when the pod starts terminating, it "stops" it and deletes it with grace 0.
  const w = await watch(s.url, `/api/v1/namespaces/default/pods?watch=true&fieldSelector=spec.nodeName%3Dnode1&resourceVersion=${s.storage.currentRevision()}`);
  t.after(() => w.close());
  const kubelet = (async () => {
    const events = await w.next(1);
    const obj = events[0]?.object as { metadata: { uid: string; deletionTimestamp?: string } };
    assert.ok(obj.metadata.deletionTimestamp);
    await call(s.url, "DELETE", "/api/v1/namespaces/default/pods/bound", { gracePeriodSeconds: 0, preconditions: { uid: obj.metadata.uid } });
  })();
  const d = await kubectl("delete", "pod", "bound");
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.stdout.trim(), 'pod "bound" deleted');
  await kubelet;
  assert.equal((await call(s.url, "GET", "/api/v1/namespaces/default/pods/bound")).status, 404);
  const l = await kubectl("delete", "pod", "loose");
  assert.equal(l.stdout.trim(), 'pod "loose" deleted');
});

test("kubectl create secret docker-registry (a protobuf body) makes a usable dockerconfigjson secret; namespace, serviceaccount, configmap and token bodies too", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  const r = await kubectl("create", "secret", "docker-registry", "regcred", "--docker-server=r.example.com", "--docker-username=u", "--docker-password=p", "--docker-email=e@x.io");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "secret/regcred created");
  const got = await call(s.url, "GET", "/api/v1/namespaces/default/secrets/regcred");
  assert.equal(got.body.type, "kubernetes.io/dockerconfigjson");
  const config = JSON.parse(Buffer.from(String((got.body.data as Record<string, string>)[".dockerconfigjson"]), "base64").toString()) as { auths: Record<string, { auth: string }> };
  assert.equal(config.auths["r.example.com"]?.auth, Buffer.from("u:p").toString("base64"));
  const again = await kubectl("create", "secret", "docker-registry", "regcred", "--docker-server=r.example.com", "--docker-username=u", "--docker-password=p");
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim(), 'error: failed to create secret secrets "regcred" already exists');
  // Other protobuf bodies of kubectl's typed clients: Namespace, ServiceAccount, ConfigMap, TokenRequest.
  assert.equal((await kubectl("create", "namespace", "team")).stdout.trim(), "namespace/team created");
  assert.equal((await kubectl("create", "serviceaccount", "bot", "-n", "team")).stdout.trim(), "serviceaccount/bot created");
  assert.equal((await kubectl("create", "configmap", "cfg", "--from-literal=a=b", "-n", "team")).stdout.trim(), "configmap/cfg created");
  assert.deepEqual((await call(s.url, "GET", "/api/v1/namespaces/team/configmaps/cfg")).body.data, { a: "b" });
  const token = await kubectl("create", "token", "bot", "-n", "team", "--duration=10m");
  assert.equal(token.code, 0, token.stderr);
  assert.match(token.stdout, /^\S+$/);
});

test("kubectl get pods prints the server's Table; apply with an unknown field fails Strict validation; explain reads the schema", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  await call(s.url, "POST", "/api/v1/namespaces/default/pods", pod("web"));
  const get = await kubectl("get", "pods", "-o", "wide");
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout.split("\n")[0] ?? "", /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
  assert.match(get.stdout.split("\n")[1] ?? "", /^web\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/);
  const dir = mkdtempSync(join(tmpdir(), "podyard-kubectl-yaml-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "typo.yaml");
  writeFileSync(file, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: c\n    imag: busybox\n    image: busybox:1.36\n");
  const bad = await kubectl("apply", "-f", file);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), `Error from server (BadRequest): error when creating "${file}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imag"`);
  const explain = await kubectl("explain", "pod.spec");
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /containers\s+<\[\]Container> -required-/);
});

test("kubectl get --field-selector with an unsupported field says the 'Unable to find' prefix once", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  const r = await kubectl("get", "pods", "--field-selector", "foo=bar");
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "foo=bar": field label not supported: foo');
});

test("kubectl apply of an unknown apiVersion or kind says 'no matches for kind ... ensure CRDs are installed first', not a validation error", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  const dir = mkdtempSync(join(tmpdir(), "podyard-unknown-kind-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [apiVersion, kind] of [["v2", "Pod"], ["v1", "Widget"]]) {
    const f = join(dir, `${kind}.yaml`);
    writeFileSync(f, `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n`);
    const r = await kubectl("apply", "-f", f);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `error: resource mapping not found for name: "x" namespace: "" from "${f}": no matches for kind "${kind}" in version "${apiVersion}"\nensure CRDs are installed first`);
  }
  // Known kinds are still validated by the server (fieldValidation): an unknown field is refused.
  const f = join(dir, "pod.yaml");
  writeFileSync(f, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: alpine\n    imag: x\n");
  const bad = await kubectl("apply", "-f", f);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown field "spec\.containers\[0\]\.imag"/);
});

test("kubectl apply of a pod with a field of the wrong type prints the server's decode error (400), and nothing is created", { skip }, async (t) => {
  const s = await startServer(t);
  const kubectl = kubectlFor(t, s);
  const dir = mkdtempSync(join(tmpdir(), "podyard-wrong-type-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, "pod.yaml");
  writeFileSync(f, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: alpine\n    command: "sleep 1"\n');
  const r = await kubectl("apply", "-f", f);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `Error from server (BadRequest): error when creating "${f}": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string`);
  assert.equal((await call(s.url, "GET", "/api/v1/namespaces/default/pods/p")).status, 404);
});
