/** applyPodCgroupLimits on a stand-in cgroup tree: v1 (a pids hierarchy) and v2 (the controller delegated down the way). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyPodCgroupLimits } from "../../src/runtime/cgroups.js";

async function tree(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "podyard-cgtree-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

test("cgroup v1: pids.max is written in the pids hierarchy at the pod's path; no limit writes nothing", async (t) => {
  const root = await tree(t);
  await mkdir(join(root, "pids"));
  await applyPodCgroupLimits("/own", "/own/podyard/sb1", { pidsLimit: 42 }, root);
  assert.equal(await readFile(join(root, "pids", "own", "podyard", "sb1", "pids.max"), "utf8"), "42");
  await applyPodCgroupLimits("/own", "/own/podyard/sb2", { pidsLimit: -1 }, root);
  await applyPodCgroupLimits("/own", "/own/podyard/sb3", {}, root);
  await assert.rejects(readFile(join(root, "pids", "own", "podyard", "sb2", "pids.max")), { code: "ENOENT" });
  await assert.rejects(readFile(join(root, "pids", "own", "podyard", "sb3", "pids.max")), { code: "ENOENT" });
});

test("cgroup v1 without a pids hierarchy: refused with the reason", async (t) => {
  const root = await tree(t);
  await assert.rejects(applyPodCgroupLimits("/own", "/own/podyard/sb", { pidsLimit: 5 }, root), {
    name: "FailedPreconditionError", message: `cannot set the pod's pids limit 5: the host has no pids cgroup hierarchy (${join(root, "pids")})`,
  });
});

test("cgroup v2: +pids is written in each subtree_control from podyard's own cgroup down that lacks it, then pids.max; nothing above ours is touched", async (t) => {
  const root = await tree(t);
  await writeFile(join(root, "cgroup.controllers"), "cpu memory pids\n");
  await writeFile(join(root, "cgroup.subtree_control"), "");
  await mkdir(join(root, "own", "podyard"), { recursive: true });
  await writeFile(join(root, "own", "cgroup.controllers"), "pids\n");
  await writeFile(join(root, "own", "cgroup.subtree_control"), "memory pids\n");
  await writeFile(join(root, "own", "podyard", "cgroup.controllers"), "pids\n");
  await writeFile(join(root, "own", "podyard", "cgroup.subtree_control"), "");
  await applyPodCgroupLimits("/own", "/own/podyard/sb", { pidsLimit: 16 }, root);
  assert.equal(await readFile(join(root, "cgroup.subtree_control"), "utf8"), "", "above podyard's cgroup: untouched");
  assert.equal(await readFile(join(root, "own", "cgroup.subtree_control"), "utf8"), "memory pids\n", "already delegated: left alone");
  assert.equal(await readFile(join(root, "own", "podyard", "cgroup.subtree_control"), "utf8"), "+pids");
  assert.equal(await readFile(join(root, "own", "podyard", "sb", "pids.max"), "utf8"), "16");
});

test("cgroup v2 where podyard's cgroup has no pids controller: refused with the cgroup that lacks it", async (t) => {
  const root = await tree(t);
  await writeFile(join(root, "cgroup.controllers"), "cpu memory pids\n");
  await writeFile(join(root, "cgroup.subtree_control"), "pids\n");
  await mkdir(join(root, "own"));
  await writeFile(join(root, "own", "cgroup.controllers"), "cpu memory\n");
  await assert.rejects(applyPodCgroupLimits("/own", "/own/podyard/sb", { pidsLimit: 16 }, root), {
    name: "FailedPreconditionError", message: `cannot set the pod's pids limit: the pids controller is not available in podyard's cgroup ${join(root, "own")}`,
  });
});
