/** The eviction manager's parts: the limit as apimachinery prints it, du-like usage, which pods it evicts. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { link, mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../../src/api/index.js";
import { diskUsage, emptyDirMessage, EvictionManager, quantityString, type ActivePod } from "../../../src/kubelet/eviction/index.js";

test("a sizeLimit is quoted in its canonical form, as Quantity.String() prints it", () => {
  const cases: [string | number, string][] = [
    ["1Gi", "1Gi"], ["1.5Gi", "1536Mi"], ["2048Mi", "2Gi"], ["1000Mi", "1000Mi"], ["100Ki", "100Ki"], ["1.5Mi", "1536Ki"],
    ["1G", "1G"], ["1000M", "1G"], ["1500M", "1500M"], ["0.5", "500m"], ["100m", "100m"], ["1024", "1024"], [1048576, "1048576"],
    ["512", "512"], ["1e3", "1e3"], ["1e6", "1e6"], ["2k", "2k"],
  ];
  for (const [q, want] of cases) assert.equal(quantityString(q), want, String(q));
  assert.equal(emptyDirMessage("x", "1Gi"), 'Usage of EmptyDir volume "x" exceeds the limit "1Gi". ');
});

test("usage counts allocated blocks, a hard-linked file once, a sparse file by what it holds; an absent directory is 0", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-du-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const empty = await diskUsage(dir);
  await mkdir(join(dir, "sub"));
  await writeFile(join(dir, "sub", "one"), Buffer.alloc(1 << 20, 7));
  await link(join(dir, "sub", "one"), join(dir, "again"));
  const sparse = await open(join(dir, "sparse"), "w");
  await sparse.truncate(64 << 20);
  await sparse.close();
  const used = await diskUsage(dir);
  assert.ok(used - empty >= 1 << 20, `at least the 1 MiB file: ${used - empty}`);
  assert.ok(used - empty < (2 << 20) - 4096, `the link and the 64 MiB hole not counted: ${used - empty}`);
  assert.equal(await diskUsage(join(dir, "nothing")), 0);
});

const pod = (name: string, extra: Partial<Pod["spec"]> = {}, annotations?: Record<string, string>): Pod => ({
  metadata: { name, namespace: "default", uid: `uid-${name}`, ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "v", emptyDir: { sizeLimit: "1Mi" } }, { name: "w", emptyDir: {} }], ...extra },
});

test("over the limit is evicted (event first); at the limit, without a limit, with a 0 limit, static, mirror or system-critical pods are not", async () => {
  const usage: Record<string, number> = {};
  const pods: ActivePod[] = [
    { pod: pod("over"), podDir: "/p/over", isStatic: false },
    { pod: pod("at"), podDir: "/p/at", isStatic: false },
    { pod: pod("nolimit", { volumes: [{ name: "v", emptyDir: {} }] }), podDir: "/p/nolimit", isStatic: false },
    { pod: pod("zero", { volumes: [{ name: "v", emptyDir: { sizeLimit: "0" } }] }), podDir: "/p/zero", isStatic: false },
    { pod: pod("static"), podDir: "/p/static", isStatic: true },
    { pod: pod("mirror", {}, { "kubernetes.io/config.mirror": "abc" }), podDir: "/p/mirror", isStatic: false },
    { pod: pod("critical", { priority: 2_000_000_000 }), podDir: "/p/critical", isStatic: false },
  ];
  for (const p of pods) usage[`${p.podDir}/volumes/kubernetes.io~empty-dir/v`] = 2 << 20;
  usage["/p/at/volumes/kubernetes.io~empty-dir/v"] = 1 << 20;
  const measured: string[] = [];
  const calls: string[] = [];
  const m = new EvictionManager({
    activePods: () => pods,
    measure: async (d) => {
      measured.push(d);
      return usage[d] ?? 0;
    },
    event: (p, msg) => calls.push(`event ${p.metadata.name ?? ""}: ${msg}`),
    evict: (p, msg) => calls.push(`evict ${p.metadata.name ?? ""}: ${msg}`),
  });
  const evicted = await m.synchronize();
  assert.deepEqual(evicted.map((p) => p.metadata.name), ["over"]);
  assert.deepEqual(calls, ['event over: Usage of EmptyDir volume "v" exceeds the limit "1Mi". ', 'evict over: Usage of EmptyDir volume "v" exceeds the limit "1Mi". ']);
  assert.ok(!measured.some((d) => d.endsWith("/w") || d.startsWith("/p/nolimit") || d.startsWith("/p/zero")), "volumes without a limit are not walked");
});
