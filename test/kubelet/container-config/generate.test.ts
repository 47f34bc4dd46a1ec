import assert from "node:assert/strict";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { Container, Pod } from "../../../src/api/index.js";
import {
  computeContainerHash, CreateContainerConfigError, generateContainerConfig, type GenerateContainerConfigInput,
} from "../../../src/kubelet/container-config/index.js";
import type { MountedVolume } from "../../../src/runtime/index.js";
import { pod, sources, tempDir } from "./fixtures.js";

async function setup(t: TestContext, c: Partial<Container> = {}, spec: Partial<Pod["spec"]> = {}, extra: Partial<GenerateContainerConfigInput> = {}) {
  const root = await tempDir(t);
  const podDir = join(root, "kubelet/pods/1234");
  const logDirectory = join(root, "log/pods/default_web_1234");
  const data = join(root, "vol-data");
  await mkdir(data, { recursive: true, mode: 0o750 });
  const volumes = new Map<string, MountedVolume>([
    ["data", { name: "data", hostPath: data, readOnly: false }],
    ["cfg", { name: "cfg", hostPath: join(root, "vol-cfg"), readOnly: true }],
  ]);
  const p = pod(c, spec);
  const input: GenerateContainerConfigInput = {
    pod: p, container: p.spec.containers[0] as Container, kind: "regular", restartCount: 2, imageRef: "sha256:abc",
    imageUser: { username: "" }, volumes, podDir, podIP: "10.88.0.5", nodeName: "node1", nodeIP: "192.168.1.10",
    sources: sources([{ metadata: { name: "cfg", namespace: "default" }, data: { MSG: "hello" } }]), logDirectory, memoryCapacity: 8 * 2 ** 30, ...extra,
  };
  return { root, podDir, logDirectory, data, input };
}

async function configError(input: GenerateContainerConfigInput): Promise<string> {
  try {
    await generateContainerConfig(input);
  } catch (err) {
    assert.ok(err instanceof CreateContainerConfigError, String(err));
    return err.message;
  }
  assert.fail("no error");
}

test("a full config: metadata, image, expanded command/args, env, labels, annotations, log path, mounts in order", async (t) => {
  const c: Partial<Container> = {
    command: ["sh", "-c", "echo $(MSG) $(UNSET) $$(MSG)"], args: ["$(NAME)"], workingDir: "/w",
    env: [{ name: "MSG", valueFrom: { configMapKeyRef: { name: "cfg", key: "MSG" } } }, { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "cfg", mountPath: "/etc/cfg" }, { name: "data", mountPath: "/ro", readOnly: true, mountPropagation: "HostToContainer" }],
    ports: [{ containerPort: 80 }], lifecycle: { preStop: { exec: { command: ["sleep", "1"] } }, stopSignal: "SIGUSR1" }, stdin: true, tty: true,
  };
  const { podDir, logDirectory, data, input } = await setup(t, c, { terminationGracePeriodSeconds: 30 });
  const { config, terminationMessageHostPath } = await generateContainerConfig(input);
  assert.deepEqual(config.metadata, { name: "app", attempt: 2 });
  assert.deepEqual(config.image, { image: "sha256:abc", userSpecifiedImage: "busybox" });
  assert.deepEqual(config.command, ["sh", "-c", "echo hello $(UNSET) $(MSG)"]);
  assert.deepEqual(config.args, ["web"]);
  assert.equal(config.workingDir, "/w");
  assert.deepEqual(config.envs, [{ key: "MSG", value: "hello" }, { key: "NAME", value: "web" }]);
  assert.equal(config.logPath, "app/2.log");
  assert.ok((await stat(join(logDirectory, "app"))).isDirectory());
  assert.equal((await stat(join(logDirectory, "app"))).mode & 0o777, 0o755);
  assert.equal(config.stopSignal, "SIGUSR1");
  assert.equal(config.stdin, true);
  assert.equal(config.tty, true);
  assert.deepEqual(config.labels, {
    "io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": "1234", "io.kubernetes.container.name": "app",
    "io.podyard.container.kind": "regular",
  });
  assert.deepEqual(config.annotations, {
    "io.kubernetes.container.hash": computeContainerHash(input.container),
    "io.kubernetes.container.restartCount": "2",
    "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
    "io.kubernetes.container.terminationMessagePolicy": "File",
    "io.kubernetes.pod.terminationGracePeriod": "30",
    "io.kubernetes.container.preStopHandler": '{"exec":{"command":["sleep","1"]}}',
    "io.kubernetes.container.ports": '[{"containerPort":80}]',
  });
  assert.match(terminationMessageHostPath, new RegExp(`^${join(podDir, "containers/app")}/[0-9a-f]{8}$`));
  assert.equal((await stat(terminationMessageHostPath)).mode & 0o777, 0o666);
  assert.equal((await stat(terminationMessageHostPath)).size, 0);
  assert.deepEqual(config.mounts, [
    { containerPath: "/data", hostPath: data, readonly: false, propagation: "PROPAGATION_PRIVATE" },
    { containerPath: "/etc/cfg", hostPath: input.volumes.get("cfg")?.hostPath, readonly: true, propagation: "PROPAGATION_PRIVATE" },
    { containerPath: "/ro", hostPath: data, readonly: true, propagation: "PROPAGATION_HOST_TO_CONTAINER" },
    { containerPath: "/etc/hosts", hostPath: join(podDir, "etc-hosts"), readonly: false },
    { containerPath: "/dev/termination-log", hostPath: terminationMessageHostPath, readonly: false },
  ]);
  // Each instance gets a fresh termination file.
  const again = await generateContainerConfig(input);
  assert.notEqual(again.terminationMessageHostPath, terminationMessageHostPath);
});

test("no /etc/hosts mount without a pod IP or when the container mounts its own", async (t) => {
  const a = await setup(t, {}, {}, { podIP: undefined });
  assert.deepEqual((await generateContainerConfig(a.input)).config.mounts?.map((m) => m.containerPath), ["/dev/termination-log"]);
  const b = await setup(t, { volumeMounts: [{ name: "data", mountPath: "/etc/hosts", subPath: "hosts" }], terminationMessagePath: "/tmp/msg" });
  assert.deepEqual((await generateContainerConfig(b.input)).config.mounts?.map((m) => m.containerPath), ["/etc/hosts", "/tmp/msg"]);
});

test("/etc/hosts has the kubelet's exact text, subdomain form and host aliases", async (t) => {
  const { podDir, input } = await setup(t, {}, { hostname: "box", subdomain: "sub", hostAliases: [{ ip: "1.2.3.4", hostnames: ["foo", "bar"] }] });
  await generateContainerConfig(input);
  assert.equal(await readFile(join(podDir, "etc-hosts"), "utf8"),
    "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
    + "10.88.0.5\tbox.sub.default.svc.cluster.local\tbox\n\n# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n");
  assert.equal((await stat(join(podDir, "etc-hosts"))).mode & 0o777, 0o644);
  const plain = await setup(t);
  await generateContainerConfig(plain.input);
  assert.match(await readFile(join(plain.podDir, "etc-hosts"), "utf8"), /ip6-allrouters\n10\.88\.0\.5\tweb\n$/);
});

test("subPath and subPathExpr: created with the volume's mode, and every error text", async (t) => {
  const { data, input, root } = await setup(t, {
    env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    volumeMounts: [{ name: "data", mountPath: "/a", subPath: "x/y" }, { name: "data", mountPath: "/b", subPathExpr: "logs/$(POD)" }],
  });
  const { config } = await generateContainerConfig(input);
  assert.deepEqual(config.mounts?.slice(0, 2).map((m) => m.hostPath), [join(data, "x/y"), join(data, "logs/web")]);
  assert.equal((await stat(join(data, "x/y"))).mode & 0o777, 0o750);

  const withMount = (m: Container["volumeMounts"], env?: Container["env"]): GenerateContainerConfigInput => {
    const c = { ...input.container, volumeMounts: m, env: env ?? input.container.env };
    return { ...input, container: c, pod: { ...input.pod, spec: { ...input.pod.spec, containers: [c] } } };
  };
  assert.equal(await configError(withMount([{ name: "nope", mountPath: "/x" }])), 'cannot find volume "nope" to mount into container "app"');
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", subPath: "/abs" }])), "error SubPath `/abs` must not be an absolute path");
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", subPath: "a/../../b" }])), "unable to provision SubPath `a/../../b`: must not contain '..'");
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", subPathExpr: "$(B)/$(A)/$(POD)" }], [{ name: "A", value: "" }, { name: "POD", value: "p" }])), "missing value for A, B");
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", mountPropagation: "Sideways" as "None" }])), 'invalid MountPropagation mode: "Sideways"');
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", recursiveReadOnly: "Enabled" }])), 'volume "data" requested recursive read-only mode, but it is not read-only');
  // A symlink leading out of the volume is refused.
  await mkdir(join(root, "outside"));
  await symlink(join(root, "outside"), join(data, "escape"));
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", subPath: "escape/new" }])), 'failed to create subPath directory for volumeMount "data" of container "app"');
  assert.equal(await configError(withMount([{ name: "data", mountPath: "/x", subPath: "escape" }])), 'failed to prepare subPath for volumeMount "data" of container "app"');
  await writeFile(join(data, "plain"), "");
  assert.equal((await generateContainerConfig(withMount([{ name: "data", mountPath: "/x", subPath: "plain" }]))).config.mounts?.[0]?.hostPath, join(data, "plain"));
});

test("runAsNonRoot: the three messages, using the image user when no runAsUser is set", async (t) => {
  const { input } = await setup(t, { securityContext: { runAsNonRoot: true } });
  const podName = '"web_default(1234)"';
  assert.equal(await configError(input), `container has runAsNonRoot and image will run as root (pod: ${podName}, container: app)`);
  assert.equal(await configError({ ...input, imageUser: { uid: 0, username: "" } }), `container has runAsNonRoot and image will run as root (pod: ${podName}, container: app)`);
  assert.equal(await configError({ ...input, imageUser: { username: "nobody" } }), `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: ${podName}, container: app)`);
  await generateContainerConfig({ ...input, imageUser: { uid: 1000, username: "" } });
  const root0 = await setup(t, { securityContext: { runAsUser: 0 } }, { securityContext: { runAsNonRoot: true } });
  assert.equal(await configError(root0.input), `container's runAsUser breaks non-root policy (pod: ${podName}, container: app)`);
  const ok = await setup(t, { securityContext: { runAsUser: 1000 } }, { securityContext: { runAsNonRoot: true } });
  await generateContainerConfig(ok.input);
});

test("securityContext maps to CRI Linux fields, container over pod", async (t) => {
  const { input } = await setup(t, {
    securityContext: { runAsUser: 1001, readOnlyRootFilesystem: true, privileged: true, allowPrivilegeEscalation: false, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } },
  }, { securityContext: { runAsUser: 1, runAsGroup: 2000, supplementalGroups: [5], fsGroup: 7 }, shareProcessNamespace: true });
  const sc = (await generateContainerConfig(input)).config.linux?.securityContext;
  assert.deepEqual(sc, {
    namespaceOptions: { network: "POD", pid: "POD", ipc: "POD" },
    runAsUser: { value: 1001 }, runAsGroup: { value: 2000 }, supplementalGroups: [5, 7], privileged: true, readonlyRootfs: true,
    capabilities: { addCapabilities: ["NET_ADMIN"], dropCapabilities: ["ALL"] }, noNewPrivs: true,
  });
  const plain = await setup(t, {}, { hostNetwork: true });
  assert.deepEqual((await generateContainerConfig(plain.input)).config.linux?.securityContext, { namespaceOptions: { network: "NODE", pid: "CONTAINER", ipc: "POD" } });
});

test("resources: cpu quota over a 100000 period, shares from requests, memory bytes, pids (podyard), OOM score by QoS", async (t) => {
  const g = await setup(t, { resources: { limits: { cpu: "500m", memory: "64Mi", pids: "100" } } });
  assert.deepEqual((await generateContainerConfig(g.input)).config.linux?.resources, {
    cpuShares: 512, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitInBytes: 67108864, pidsLimit: 100, oomScoreAdj: -997,
  });
  const b = await setup(t, { resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "2" } } });
  assert.deepEqual((await generateContainerConfig(b.input)).config.linux?.resources, {
    cpuShares: 256, cpuPeriod: 100000, cpuQuota: 200000, oomScoreAdj: 875,
  });
  const be = await setup(t);
  assert.deepEqual((await generateContainerConfig(be.input)).config.linux?.resources, { cpuShares: 2, oomScoreAdj: 1000 });
  const tiny = await setup(t, { resources: { limits: { cpu: "1m" } , requests: { cpu: "1m" } } });
  assert.deepEqual((await generateContainerConfig(tiny.input)).config.linux?.resources, { cpuShares: 2, cpuPeriod: 100000, cpuQuota: 1000, oomScoreAdj: 999 });
});

test("the container hash is stable and changes with the image", () => {
  const a = computeContainerHash({ name: "app", image: "busybox" });
  assert.match(a, /^[0-9a-f]+$/);
  assert.equal(computeContainerHash({ name: "app", image: "busybox", command: ["x"] }), a);
  assert.notEqual(computeContainerHash({ name: "app", image: "busybox:1.36" }), a);
});
