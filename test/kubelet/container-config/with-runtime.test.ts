/**
 * The volumes and container configs made here, run by the real runtime: what a container sees of
 * its env, volumes, /etc/hosts and termination-message file, and what `kubectl logs` reads back.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, test } from "node:test";
import type { Pod } from "../../../src/api/index.js";
import {
  buildPodSandboxConfig, generateContainerConfig, readTerminationMessage,
} from "../../../src/kubelet/container-config/index.js";
import { isMountPoint, readContainerLog, setUpPodVolumes, tearDownPodVolumes } from "../../../src/runtime/index.js";
import { openRuntimeFixture, type RuntimeFixture } from "../../runtime/runtime-fixture.js";
import { b64, sources } from "./fixtures.js";

const isRoot = process.getuid?.() === 0;
let fx: RuntimeFixture | undefined;
before(async () => { if (isRoot) fx = await openRuntimeFixture(); });
after(async () => { await fx?.close(); });

test("a pod's env, volumes, /etc/hosts, termination message and logs as its containers see them", { skip: !isRoot && "needs root to run containers" }, async (t) => {
  assert.ok(fx);
  const rt = await fx.newRuntime();
  const root = await mkdtemp(join(tmpdir(), "podyard-ccrt-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const uid = `uid-${process.pid}-cc`;
  const pod: Pod = {
    metadata: { name: `cc-${process.pid}`, namespace: "default", uid, labels: { app: "cc" } },
    spec: {
      nodeName: "node1",
      volumes: [
        { name: "shared", emptyDir: {} },
        { name: "cfg", configMap: { name: "cfg" } },
        { name: "creds", secret: { secretName: "creds", defaultMode: 0o400 } },
        { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
      ],
      containers: [{
        name: "app", image: fx.image,
        envFrom: [{ configMapRef: { name: "cfg" } }],
        env: [{ name: "GREETING", value: "$(MESSAGE) from $(POD)" }, { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        command: ["sh", "-c", "echo started $(POD); echo oops >&2; echo all done > /dev/termination-log; exec sleep 3600"],
        volumeMounts: [
          { name: "shared", mountPath: "/shared" }, { name: "shared", mountPath: "/sub", subPath: "deep/dir" },
          { name: "cfg", mountPath: "/etc/cfg" }, { name: "creds", mountPath: "/creds" }, { name: "info", mountPath: "/info" },
        ],
      }],
    },
  };
  const src = sources([{ metadata: { name: "cfg", namespace: "default" }, data: { MESSAGE: "hello", "app.conf": "x=1\n" } }],
    [{ metadata: { name: "creds", namespace: "default" }, data: { password: b64("s3cr3t") } }]);
  const podDir = join(root, "kubelet/pods", uid);
  const volumes = await setUpPodVolumes({ pod, podDir, sources: src, nodeName: "node1" });
  t.after(() => tearDownPodVolumes(podDir));

  const sandboxConfig = buildPodSandboxConfig(pod, { logRoot: join(root, "log/pods") });
  const sb = await rt.runPodSandbox(sandboxConfig);
  t.after(() => rt.removePodSandbox(sb));
  const podIP = (await rt.podSandboxStatus(sb)).status.network?.ip ?? "";
  const container = pod.spec.containers[0];
  assert.ok(container);
  const { config, terminationMessageHostPath } = await generateContainerConfig({
    pod, container, kind: "regular", restartCount: 0, imageRef: fx.image, imageUser: { username: "" }, volumes, podDir, podIP,
    nodeName: "node1", sources: src, logDirectory: sandboxConfig.logDirectory ?? "",
  });
  const id = await rt.createContainer(sb, config, sandboxConfig);
  await rt.startContainer(id);
  const sh = async (cmd: string): Promise<string> => {
    const r = await rt.execSync(id, ["sh", "-c", cmd], 10);
    return r.stdout.toString() + r.stderr.toString();
  };
  assert.equal(await sh("echo $GREETING; echo $MESSAGE"), `hello from $(POD)\nhello\n`);
  assert.equal(await sh("cat /etc/cfg/app.conf /creds/password; echo; cat /info/labels"), 'x=1\ns3cr3t\napp="cc"');
  assert.match(await sh("echo x > /etc/cfg/new 2>&1 || echo refused"), /refused/);
  assert.match(await sh("echo x > /creds/new 2>&1 || echo refused"), /refused/);
  await sh("echo shared > /sub/f");
  assert.equal(await sh("cat /shared/deep/dir/f"), "shared\n");
  assert.match(await sh("cat /etc/hosts"), new RegExp(`^# Kubernetes-managed hosts file\\.\\n[\\s\\S]*\\n${podIP.replace(/\./g, "\\.")}\\t${pod.metadata.name}\\n$`));
  assert.ok(await isMountPoint(volumes.get("creds")?.hostPath ?? ""));

  // The message the container wrote, and its log as kubectl logs shows it.
  for (let i = 0; i < 100 && (await readTerminationMessage({ hostPath: terminationMessageHostPath, exitCode: 0 })) === ""; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await readTerminationMessage({ hostPath: terminationMessageHostPath, exitCode: 0 }), "all done\n");
  const status = await rt.containerStatus(id);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await readContainerLog(status.status.logPath, {}, out);
  assert.equal(Buffer.concat(chunks).toString(), `started ${pod.metadata.name}\noops\n`);
  const errOnly: Buffer[] = [];
  const out2 = new PassThrough().on("data", (c: Buffer) => errOnly.push(c));
  await readContainerLog(status.status.logPath, { stream: "Stderr", timestamps: true }, out2);
  assert.match(Buffer.concat(errOnly).toString(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z oops\n$/);

  await rt.stopContainer(id, 0);
  await rt.removePodSandbox(sb);
  await tearDownPodVolumes(podDir);
  assert.equal(await isMountPoint(volumes.get("creds")?.hostPath ?? ""), false);
});
