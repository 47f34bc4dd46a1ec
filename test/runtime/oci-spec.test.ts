/** config.json generation without running anything: argv, env, capabilities, limits, mounts, user lookup. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capabilities, DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, generateSpec, processArgs, processEnv, type SpecInput } from "../../src/runtime/index.js";
import { resolveUser } from "../../src/runtime/user.js";

test("command and args against the image's ENTRYPOINT and CMD, as the kubelet-pods table says", () => {
  const image = { Entrypoint: ["/entry"], Cmd: ["default"] };
  assert.deepEqual(processArgs({}, image), ["/entry", "default"]);
  assert.deepEqual(processArgs({ args: ["x"] }, image), ["/entry", "x"]);
  assert.deepEqual(processArgs({ command: ["/bin/sh"] }, image), ["/bin/sh"]);
  assert.deepEqual(processArgs({ command: ["/bin/sh"], args: ["-c", "true"] }, image), ["/bin/sh", "-c", "true"]);
  assert.deepEqual(processArgs({ args: ["x"] }, { Entrypoint: [""], Cmd: ["y"] }), ["x"], `ENTRYPOINT [""] counts as none`);
  assert.throws(() => processArgs({}, {}), /^InvalidArgumentError: no command specified$|no command specified/);
  assert.throws(() => processArgs({}, { Entrypoint: [""] }), /no command specified/);
});

test("env: PATH default, HOSTNAME, image Env, then the container's; a later key wins", () => {
  assert.deepEqual(processEnv("web", ["PATH=/bin", "A=image", "B=image"], [{ key: "A", value: "pod" }, { key: "C", value: "c" }]),
    ["PATH=/bin", "HOSTNAME=web", "A=pod", "B=image", "C=c"]);
  assert.deepEqual(processEnv(undefined, [], []), ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
});

test("capabilities: Docker's 14 by default, add and drop (ALL too), privileged gets all", () => {
  assert.deepEqual(new Set(capabilities()), new Set(DEFAULT_CAPABILITIES));
  assert.equal(capabilities().length, 14);
  assert.ok(capabilities(["NET_ADMIN"]).includes("CAP_NET_ADMIN"));
  assert.ok(!capabilities([], ["CHOWN"]).includes("CAP_CHOWN"));
  assert.deepEqual(capabilities(["NET_BIND_SERVICE"], ["ALL"]), ["CAP_NET_BIND_SERVICE"]);
  assert.ok(capabilities(["ALL"]).includes("CAP_SYS_ADMIN"));
  assert.ok(capabilities([], [], true).includes("CAP_SYS_ADMIN"));
  assert.throws(() => capabilities(["NOT_A_CAP"]), /unknown capability "CAP_NOT_A_CAP"/);
});

function input(over: Partial<SpecInput["config"]> = {}): SpecInput {
  return {
    config: { metadata: { name: "c" }, image: { image: "busybox" }, command: ["sh"], ...over },
    image: { Env: ["PATH=/bin"], WorkingDir: "/work" },
    hostname: "pod",
    rootfs: "/r",
    user: { uid: 0, gid: 0, additionalGids: [] },
    namespaces: { net: "/ns/net", ipc: "/ns/ipc", uts: "/ns/uts" },
    cgroupsPath: "/own/podyard/sb/c",
    extraMounts: [{ destination: "/etc/hostname", type: "bind", source: "/sb/hostname", options: ["rbind", "rw"] }],
  };
}

test("the spec: sandbox namespaces, new pid and mount, cgroup path, device rules, masks, no rlimits, limits", () => {
  const spec = generateSpec(input({ linux: { resources: { memoryLimitInBytes: 64 << 20, cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: 10 } } }));
  assert.deepEqual(spec.linux.namespaces, [
    { type: "pid" }, { type: "ipc", path: "/ns/ipc" }, { type: "uts", path: "/ns/uts" }, { type: "mount" }, { type: "network", path: "/ns/net" },
  ]);
  assert.equal(spec.linux.cgroupsPath, "/own/podyard/sb/c");
  assert.deepEqual(spec.linux.resources.devices[0], { allow: false, access: "rwm" });
  assert.ok(spec.linux.resources.devices.some((d) => d.allow && d.type === "c" && d.major === 1 && d.minor === 3));
  assert.deepEqual(spec.linux.resources.memory, { limit: 64 << 20, swap: 64 << 20 });
  assert.deepEqual(spec.linux.resources.cpu, { quota: 50000, period: 100000 });
  assert.deepEqual(spec.linux.resources.pids, { limit: 10 });
  assert.deepEqual(spec.linux.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.equal("rlimits" in spec.process, false);
  assert.equal(spec.process.cwd, "/work");
  assert.equal(spec.process.noNewPrivileges, true);
  assert.ok(spec.mounts.some((m) => m.destination === "/dev/shm" && m.type === "tmpfs"));
  assert.ok(spec.mounts.some((m) => m.destination === "/etc/hostname"));
});

test("the spec: the sandbox's /dev/shm bind takes the place of the private tmpfs", () => {
  const base = input();
  const spec = generateSpec({ ...base, extraMounts: [...base.extraMounts, { destination: "/dev/shm", type: "bind", source: "/sb/shm", options: ["rbind", "rprivate", "rw"] }] });
  assert.deepEqual(spec.mounts.filter((m) => m.destination === "/dev/shm"), [{ destination: "/dev/shm", type: "bind", source: "/sb/shm", options: ["rbind", "rprivate", "rw"] }]);
});

test("the spec: privileged has every capability and no masks; readonly rootfs; bind mounts ro and with propagation; tmpfs", () => {
  const priv = generateSpec(input({ linux: { securityContext: { privileged: true } } }));
  assert.equal(priv.linux.maskedPaths, undefined);
  assert.equal(priv.process.noNewPrivileges, false);
  assert.deepEqual(priv.linux.resources.devices, [{ allow: true, access: "rwm" }]);
  const spec = generateSpec(input({
    workingDir: "/w",
    linux: { securityContext: { readonlyRootfs: true, noNewPrivs: false } },
    mounts: [
      { containerPath: "/data", hostPath: "/host/data", readonly: true },
      { containerPath: "/shared", hostPath: "/host/shared", propagation: "PROPAGATION_BIDIRECTIONAL" },
      { containerPath: "/scratch", hostPath: "", tmpfs: { sizeBytes: 1048576 } },
    ],
  }));
  assert.equal(spec.root.readonly, true);
  assert.equal(spec.process.cwd, "/w");
  assert.equal(spec.process.noNewPrivileges, false);
  assert.deepEqual(spec.mounts.find((m) => m.destination === "/data")?.options, ["rbind", "ro", "rprivate"]);
  assert.deepEqual(spec.mounts.find((m) => m.destination === "/shared")?.options, ["rbind", "rw", "rshared"]);
  assert.equal(spec.mounts.find((m) => m.destination === "/scratch")?.type, "tmpfs");
  assert.ok(spec.mounts.find((m) => m.destination === "/scratch")?.options?.includes("size=1048576"));
  assert.throws(() => generateSpec(input({ linux: { resources: { cpuQuota: 10 } } })), /CPU cfs quota 10 cannot be less than 1ms/);
});

test("user: numeric, by name through the rootfs's passwd and group, runAsUser/runAsGroup win, unknown names fail", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "podyard-user-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, "etc"));
  await writeFile(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n");
  await writeFile(join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app\n");
  assert.deepEqual(await resolveUser(root, undefined, {}), { uid: 0, gid: 0, additionalGids: [] });
  assert.deepEqual(await resolveUser(root, "nobody", {}), { uid: 65534, gid: 65534, additionalGids: [] });
  assert.deepEqual(await resolveUser(root, "app", {}), { uid: 1000, gid: 1000, additionalGids: [10] });
  assert.deepEqual(await resolveUser(root, "1000:wheel", {}), { uid: 1000, gid: 10, additionalGids: [] });
  assert.deepEqual(await resolveUser(root, "4242", {}), { uid: 4242, gid: 0, additionalGids: [] });
  assert.deepEqual(await resolveUser(root, "app", { runAsUser: 65534, runAsGroup: 7, supplementalGroups: [99] }), { uid: 65534, gid: 7, additionalGids: [99] });
  await assert.rejects(resolveUser(root, "ghost", {}), /unable to find user ghost: no matching entries in passwd file/);
});
