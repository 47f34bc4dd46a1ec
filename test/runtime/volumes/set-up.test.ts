import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { ConfigMap, Pod, Secret, Volume } from "../../../src/api/index.js";
import { FakeClock } from "../../../src/clock/index.js";
import { isMountPoint, mountPoints, setUpPodVolumes, tearDownPodVolumes, VolumeSetUpError, type VolumeSources } from "../../../src/runtime/index.js";

const isRoot = process.getuid?.() === 0;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-vol-"));
  t.after(async () => {
    // Unmount whatever a failed test left before removing.
    for (const m of (await mountPoints()).reverse()) if (m.startsWith(dir + "/")) execFileSync("umount", ["-l", m]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function podWith(volumes: Volume[], extra: Partial<Pod["metadata"]> = {}): Pod {
  return {
    metadata: { name: "web", namespace: "default", uid: "uid-1", ...extra },
    spec: { volumes, containers: [{ name: "app", image: "busybox", resources: { limits: { cpu: "500m", memory: "64Mi" } } }] },
  };
}

function sources(cms: ConfigMap[] = [], secrets: Secret[] = []): VolumeSources {
  return {
    getConfigMap: async (ns, name) => cms.find((c) => c.metadata?.name === name && (c.metadata?.namespace ?? "default") === ns),
    getSecret: async (ns, name) => secrets.find((s) => s.metadata?.name === name && (s.metadata?.namespace ?? "default") === ns),
  };
}

const CLOCK = new FakeClock(Date.UTC(2026, 11, 3, 14, 5, 9));

async function setUp(podDir: string, pod: Pod, src = sources()) {
  return setUpPodVolumes({ pod, podDir, sources: src, nodeName: "node1", podIP: "10.88.0.5", clock: CLOCK });
}

async function setUpError(podDir: string, pod: Pod, src = sources()): Promise<VolumeSetUpError> {
  try {
    await setUp(podDir, pod, src);
  } catch (err) {
    assert.ok(err instanceof VolumeSetUpError, String(err));
    return err;
  }
  assert.fail("set-up succeeded");
}

test("emptyDir is a 0777 directory under kubernetes.io~empty-dir, writable and not read-only", async (t) => {
  const podDir = await tempDir(t);
  const vols = await setUp(podDir, podWith([{ name: "shared-storage", emptyDir: {} }]));
  const v = vols.get("shared-storage");
  assert.deepEqual(v, { name: "shared-storage", hostPath: join(podDir, "volumes/kubernetes.io~empty-dir/shared-storage"), readOnly: false });
  assert.equal((await stat(v.hostPath)).mode & 0o777, 0o777);
  await writeFile(join(v.hostPath, "index.html"), "hi");
  // A second sync keeps the data.
  await setUp(podDir, podWith([{ name: "shared-storage", emptyDir: {} }]));
  assert.equal(await readFile(join(v.hostPath, "index.html"), "utf8"), "hi");
  await tearDownPodVolumes(podDir);
  await assert.rejects(stat(join(podDir, "volumes")), { code: "ENOENT" });
  await tearDownPodVolumes(podDir); // idempotent
});

test("emptyDir medium Memory is a tmpfs of sizeLimit, unmounted at teardown", { skip: !isRoot && "needs root to mount a tmpfs" }, async (t) => {
  const podDir = await tempDir(t);
  const vols = await setUp(podDir, podWith([{ name: "cache", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }]));
  const v = vols.get("cache");
  assert.ok(v?.tmpfs);
  assert.ok(await isMountPoint(v.hostPath));
  const info = execFileSync("findmnt", ["-n", "-o", "FSTYPE,OPTIONS", v.hostPath], { encoding: "utf8" });
  assert.match(info, /^tmpfs .*size=1024k/);
  // Full at 1Mi.
  await assert.rejects(writeFile(join(v.hostPath, "big"), Buffer.alloc(2 * 1024 * 1024)), { code: "ENOSPC" });
  await setUp(podDir, podWith([{ name: "cache", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }]));
  assert.equal((await mountPoints()).filter((m) => m === v.hostPath).length, 1, "a second sync mounts nothing more");
  await tearDownPodVolumes(podDir);
  assert.equal(await isMountPoint(v.hostPath), false);
  await assert.rejects(stat(join(podDir, "volumes")), { code: "ENOENT" });
});

test("hostPath types create or check the path with the kubelet's texts", async (t) => {
  const podDir = await tempDir(t);
  const host = await tempDir(t);
  await writeFile(join(host, "file"), "x");
  const ok = await setUp(podDir, podWith([
    { name: "d", hostPath: { path: join(host, "new/dir"), type: "DirectoryOrCreate" } },
    { name: "f", hostPath: { path: join(host, "new-file"), type: "FileOrCreate" } },
    { name: "any", hostPath: { path: join(host, "missing") } },
    { name: "chr", hostPath: { path: "/dev/null", type: "CharDevice" } },
  ]));
  assert.deepEqual(ok.get("d"), { name: "d", hostPath: join(host, "new/dir"), readOnly: false });
  assert.ok((await stat(join(host, "new/dir"))).isDirectory());
  assert.equal((await stat(join(host, "new/dir"))).mode & 0o777, 0o755);
  assert.ok((await stat(join(host, "new-file"))).isFile());
  assert.equal((await stat(join(host, "new-file"))).mode & 0o777, 0o644);

  const cases: [Volume["hostPath"], string][] = [
    [{ path: join(host, "file"), type: "Directory" }, `hostPath type check failed: ${join(host, "file")} is not a directory`],
    [{ path: join(host, "nope"), type: "Directory" }, `hostPath type check failed: ${join(host, "nope")} is not a directory`],
    [{ path: join(host, "file"), type: "DirectoryOrCreate" }, `hostPath type check failed: ${join(host, "file")} is not a directory`],
    [{ path: host, type: "File" }, `hostPath type check failed: ${host} is not a file`],
    [{ path: host, type: "FileOrCreate" }, `hostPath type check failed: ${host} is not a file`],
    [{ path: join(host, "file"), type: "Socket" }, `hostPath type check failed: ${join(host, "file")} is not a socket file`],
    [{ path: join(host, "file"), type: "CharDevice" }, `hostPath type check failed: ${join(host, "file")} is not a character device`],
    [{ path: "/dev/null", type: "BlockDevice" }, `hostPath type check failed: /dev/null is not a block device`],
    [{ path: `${host}/a/../b` }, `invalid HostPath \`${host}/a/../b\`: must not contain '..'`],
  ];
  for (const [hp, want] of cases) {
    const err = await setUpError(podDir, podWith([{ name: "h", hostPath: hp }]));
    assert.equal(err.message, `MountVolume.SetUp failed for volume "h" : ${want}`);
    assert.equal(err.volume, "h");
  }
});

test("hostPath Socket accepts a unix socket", async (t) => {
  const host = await tempDir(t);
  const sock = join(host, "s.sock");
  const server = createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => server.close());
  const podDir = await tempDir(t);
  const vols = await setUp(podDir, podWith([{ name: "s", hostPath: { path: sock, type: "Socket" } }]));
  assert.equal(vols.get("s")?.hostPath, sock);
});

test("configMap: AtomicWriter layout, defaultMode, items with mode, read-only, re-projected on change", async (t) => {
  const podDir = await tempDir(t);
  const cm: ConfigMap = { metadata: { name: "cfg", namespace: "default" }, data: { "game.properties": "lives=3", "ui.properties": "color=red" }, binaryData: { bin: Buffer.from([0, 1, 2]).toString("base64") } };
  const pod = podWith([{ name: "config", configMap: { name: "cfg", defaultMode: 0o600 } }]);
  const vols = await setUp(podDir, pod, sources([cm]));
  const dir = join(podDir, "volumes/kubernetes.io~configmap/config");
  assert.deepEqual(vols.get("config"), { name: "config", hostPath: dir, readOnly: true });
  const entries = (await readdir(dir)).sort();
  const dataDir = await readlink(join(dir, "..data"));
  assert.match(dataDir, /^\.\.2026_12_03_14_05_09\.\d+$/);
  assert.deepEqual(entries, ["..data", dataDir, "bin", "game.properties", "ui.properties"].sort());
  assert.equal(await readlink(join(dir, "game.properties")), "..data/game.properties");
  assert.equal(await readFile(join(dir, "game.properties"), "utf8"), "lives=3");
  assert.deepEqual([...(await readFile(join(dir, "bin")))], [0, 1, 2]);
  assert.equal((await stat(join(dir, "ui.properties"))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, dataDir))).mode & 0o777, 0o755);

  // Unchanged: nothing rewritten.
  await setUp(podDir, pod, sources([cm]));
  assert.equal(await readlink(join(dir, "..data")), dataDir);

  // Changed: a new directory swapped in, the old one and stale links gone.
  const cm2: ConfigMap = { metadata: { name: "cfg", namespace: "default" }, data: { "game.properties": "lives=5" } };
  await setUp(podDir, pod, sources([cm2]));
  const dataDir2 = await readlink(join(dir, "..data"));
  assert.notEqual(dataDir2, dataDir);
  assert.deepEqual((await readdir(dir)).sort(), ["..data", dataDir2, "game.properties"].sort());
  assert.equal(await readFile(join(dir, "game.properties"), "utf8"), "lives=5");

  // Items: only the listed keys, at their paths, item mode over defaultMode.
  const podItems = podWith([{ name: "items", configMap: { name: "cfg", items: [{ key: "game.properties", path: "conf/game", mode: 0o400 }] } }]);
  await setUp(podDir, podItems, sources([cm]));
  const idir = join(podDir, "volumes/kubernetes.io~configmap/items");
  assert.equal(await readFile(join(idir, "conf/game"), "utf8"), "lives=3");
  assert.equal((await lstat(join(idir, "conf"))).isSymbolicLink(), true);
  assert.equal((await stat(join(idir, "conf/game"))).mode & 0o777, 0o400);
  assert.deepEqual((await readdir(idir)).filter((n) => !n.startsWith("..")), ["conf"]);
  await tearDownPodVolumes(podDir);
});

test("configMap and secret errors: missing object, optional, missing key, .. in a path", async (t) => {
  const podDir = await tempDir(t);
  const cm: ConfigMap = { metadata: { name: "cfg", namespace: "default" }, data: { a: "1" } };
  const s: Secret = { metadata: { name: "s", namespace: "default" }, data: { a: Buffer.from("1").toString("base64") } };
  const src = sources([cm], [s]);
  const cases: [Volume, string][] = [
    [{ name: "v", configMap: { name: "nope" } }, `configmap "nope" not found`],
    [{ name: "v", secret: { secretName: "nope" } }, `secret "nope" not found`],
    [{ name: "v", configMap: { name: "cfg", items: [{ key: "zz", path: "zz" }] } }, "configmap references non-existent config key: zz"],
    [{ name: "v", secret: { secretName: "s", items: [{ key: "zz", path: "zz" }] } }, "references non-existent secret key: zz"],
    [{ name: "v", configMap: { name: "cfg", items: [{ key: "a", path: "../evil" }] } }, "invalid path: must not contain '..': ../evil"],
    [{ name: "v", configMap: { name: "cfg", items: [{ key: "a", path: "/abs" }] } }, "invalid path: must be relative path: /abs"],
  ];
  for (const [vol, want] of cases) {
    const err = await setUpError(podDir, podWith([vol]), src);
    assert.equal(err.message, `MountVolume.SetUp failed for volume "v" : ${want}`);
    await tearDownPodVolumes(podDir);
  }
  // Optional: missing object → empty volume; missing key → skipped.
  const vols = await setUp(podDir, podWith([
    { name: "o1", configMap: { name: "nope", optional: true } },
    { name: "o2", configMap: { name: "cfg", optional: true, items: [{ key: "zz", path: "zz" }, { key: "a", path: "a" }] } },
  ]), src);
  assert.deepEqual((await readdir(vols.get("o1")?.hostPath ?? "")).filter((n) => !n.startsWith("..")), []);
  assert.deepEqual((await readdir(vols.get("o2")?.hostPath ?? "")).filter((n) => !n.startsWith("..")), ["a"]);
  // Every failing volume is reported, the first one thrown.
  const err = await setUpError(podDir, podWith([{ name: "x", configMap: { name: "nope" } }, { name: "ok", emptyDir: {} }, { name: "y", secret: { secretName: "nope" } }]), src);
  assert.deepEqual(err.failures.map((f) => f.message), [`MountVolume.SetUp failed for volume "x" : configmap "nope" not found`, `MountVolume.SetUp failed for volume "y" : secret "nope" not found`]);
  await tearDownPodVolumes(podDir);
});

test("secret volume is a tmpfs holding the decoded values, read-only", { skip: !isRoot && "needs root to mount a tmpfs" }, async (t) => {
  const podDir = await tempDir(t);
  const s: Secret = { metadata: { name: "creds", namespace: "default" }, data: { password: Buffer.from("s3cr3t").toString("base64") } };
  const vols = await setUp(podDir, podWith([{ name: "creds", secret: { secretName: "creds", defaultMode: 0o400 } }]), sources([], [s]));
  const v = vols.get("creds");
  assert.equal(v?.hostPath, join(podDir, "volumes/kubernetes.io~secret/creds"));
  assert.equal(v.readOnly, true);
  assert.equal(v.tmpfs, true);
  assert.ok(await isMountPoint(v.hostPath));
  assert.equal(await readFile(join(v.hostPath, "password"), "utf8"), "s3cr3t");
  assert.equal((await stat(join(v.hostPath, "password"))).mode & 0o777, 0o400);
  await tearDownPodVolumes(podDir);
  assert.equal(await isMountPoint(v.hostPath), false);
  await assert.rejects(stat(join(podDir, "volumes")), { code: "ENOENT" });
});

test("downwardAPI: labels/annotations as sorted %q lines, fields, resources with divisor", async (t) => {
  const podDir = await tempDir(t);
  const pod = podWith([{
    name: "podinfo",
    downwardAPI: {
      items: [
        { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
        { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" } },
        { path: "name", fieldRef: { fieldPath: "metadata.name" } },
        { path: "zone", fieldRef: { fieldPath: "metadata.labels['zone']" } },
        { path: "cpu_limit", resourceFieldRef: { containerName: "app", resource: "limits.cpu", divisor: "1m" } },
        { path: "mem_limit", resourceFieldRef: { containerName: "app", resource: "limits.memory", divisor: "1Mi" } },
        { path: "cpu_request", resourceFieldRef: { containerName: "app", resource: "requests.cpu" } },
      ],
    },
  }], { labels: { zone: "us-east", app: "web" }, annotations: { note: 'say "hi"\n' } });
  const vols = await setUp(podDir, pod);
  const dir = vols.get("podinfo")?.hostPath ?? "";
  assert.equal(dir, join(podDir, "volumes/kubernetes.io~downward-api/podinfo"));
  assert.equal(await readFile(join(dir, "labels"), "utf8"), 'app="web"\nzone="us-east"');
  assert.equal(await readFile(join(dir, "annotations"), "utf8"), 'note="say \\"hi\\"\\n"');
  assert.equal(await readFile(join(dir, "name"), "utf8"), "web");
  assert.equal(await readFile(join(dir, "zone"), "utf8"), "us-east");
  assert.equal(await readFile(join(dir, "cpu_limit"), "utf8"), "500");
  assert.equal(await readFile(join(dir, "mem_limit"), "utf8"), "64");
  assert.equal(await readFile(join(dir, "cpu_request"), "utf8"), "1"); // request defaults to the limit, 0.5 rounded up
  assert.equal(vols.get("podinfo")?.readOnly, true);
  await tearDownPodVolumes(podDir);
});

test("projected volume merges configMap, secret and downwardAPI sources", async (t) => {
  const podDir = await tempDir(t);
  const cm: ConfigMap = { metadata: { name: "cfg", namespace: "default" }, data: { a: "1" } };
  const s: Secret = { metadata: { name: "s", namespace: "default" }, data: { b: Buffer.from("2").toString("base64") } };
  const vols = await setUp(podDir, podWith([{
    name: "all",
    projected: { sources: [{ configMap: { name: "cfg" } }, { secret: { name: "s", items: [{ key: "b", path: "sub/b" }] } }, { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } }] },
  }]), sources([cm], [s]));
  const dir = vols.get("all")?.hostPath ?? "";
  assert.equal(dir, join(podDir, "volumes/kubernetes.io~projected/all"));
  assert.equal(await readFile(join(dir, "a"), "utf8"), "1");
  assert.equal(await readFile(join(dir, "sub/b"), "utf8"), "2");
  assert.equal(await readFile(join(dir, "ns"), "utf8"), "default");
  await tearDownPodVolumes(podDir);
});

test("teardown refuses to delete through a mount it could not remove", { skip: !isRoot && "needs root to mount" }, async (t) => {
  const podDir = await tempDir(t);
  const vols = await setUp(podDir, podWith([{ name: "d", emptyDir: {} }]));
  const inner = join(vols.get("d")?.hostPath ?? "", "inner");
  await mkdir(inner);
  const outside = await tempDir(t);
  await writeFile(join(outside, "keep"), "precious");
  execFileSync("mount", ["--bind", outside, inner]);
  t.after(() => { try { execFileSync("umount", [inner]); } catch { /* already */ } });
  await assert.rejects(tearDownPodVolumes(podDir), /still mounted/);
  assert.equal(await readFile(join(outside, "keep"), "utf8"), "precious");
  execFileSync("umount", [inner]);
  await tearDownPodVolumes(podDir);
});

test("a memory volume's size: node memory, lowered to the pod's memory limit, lowered to sizeLimit", async () => {
  const { memoryVolumeSize } = await import("../../../src/runtime/index.js");
  const GI = 2 ** 30;
  const p = (limits: (string | undefined)[]): Pod => ({
    metadata: { name: "p" },
    spec: { containers: limits.map((l, i) => ({ name: `c${i}`, ...(l ? { resources: { limits: { memory: l } } } : {}) })) },
  });
  assert.equal(memoryVolumeSize(p([undefined]), undefined, 8 * GI), 8 * GI);
  assert.equal(memoryVolumeSize(p(["1Gi", "2Gi"]), undefined, 8 * GI), 3 * GI);
  assert.equal(memoryVolumeSize(p(["1Gi", undefined]), undefined, 8 * GI), 8 * GI, "a container without a limit leaves the pod unlimited");
  assert.equal(memoryVolumeSize(p(["1Gi"]), "64Mi", 8 * GI), 64 * 2 ** 20);
  assert.equal(memoryVolumeSize(p(["1Gi"]), "2Gi", 8 * GI), GI, "a sizeLimit above the pod's limit does not raise it");
  assert.equal(memoryVolumeSize(p([undefined]), "0", 8 * GI), 8 * GI);
});

test("fsGroup owns emptyDir and projected files, with group read (setgid directories)", { skip: !isRoot && "needs root to chown" }, async (t) => {
  const podDir = await tempDir(t);
  const p = podWith([{ name: "e", emptyDir: {} }, { name: "c", configMap: { name: "cfg", defaultMode: 0o400 } }]);
  p.spec.securityContext = { fsGroup: 2345 };
  const cm: ConfigMap = { metadata: { name: "cfg", namespace: "default" }, data: { k: "v" } };
  const vols = await setUp(podDir, p, sources([cm]));
  const e = await stat(vols.get("e")?.hostPath ?? "");
  assert.equal(e.gid, 2345);
  assert.equal(e.mode & 0o7777, 0o2777);
  const f = await stat(join(vols.get("c")?.hostPath ?? "", "k"));
  assert.equal(f.gid, 2345);
  assert.equal(f.mode & 0o7777, 0o440);
  const dataDir = await readlink(join(vols.get("c")?.hostPath ?? "", "..data"));
  await setUp(podDir, p, sources([cm]));
  assert.equal(await readlink(join(vols.get("c")?.hostPath ?? "", "..data")), dataDir, "an unchanged payload is not rewritten");
  await tearDownPodVolumes(podDir);
});
