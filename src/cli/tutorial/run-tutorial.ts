/**
 * The main job: the tutorial end to end, each step printed with its output. `podyard up -d`
 * in a temporary home on free ports; a stand-in for `alpine` built from Debian's busybox
 * and pushed to the embedded registry as `library/alpine:latest` (docker.io's first mirror,
 * so `image: alpine` resolves to it); the tutorial's two pods applied unchanged with the
 * real kubectl; `kubectl get pods`, the two checks through `kubectl exec`, `kubectl describe`
 * with the pull events; then the pods deleted, the node stopped, the home removed.
 */
import { execFile } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { FailedPreconditionError } from "../../errdefs/index.js";
import { digestEncoded, type Descriptor, type Digest } from "../../oci/index.js";
import { RegistryClient } from "../../registry/client/index.js";
import { readUpInfo } from "../up/state.js";
import { buildBusyboxImage } from "./busybox-rootfs.js";
import { SEED_PODS } from "./seed-pods.js";

const run = promisify(execFile);

export interface TutorialOptions {
  keep: boolean;
  out?: (line: string) => void;
  /** the kubectl to drive the pods with (default /usr/bin/kubectl, else the first on PATH) */
  kubectl?: string;
}

/** /usr/bin/kubectl, else the first kubectl on PATH, else undefined. */
export function findKubectl(): string | undefined {
  if (existsSync("/usr/bin/kubectl")) return "/usr/bin/kubectl";
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, "kubectl"))) return join(dir, "kubectl");
  }
  return undefined;
}

function mb(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

interface Step {
  stdout: string;
  stderr: string;
  code: number;
}

export async function runTutorial(opts: TutorialOptions): Promise<void> {
  const say = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const kubectl = opts.kubectl ?? findKubectl();
  if (kubectl === undefined) {
    throw new FailedPreconditionError("the tutorial drives its pods with kubectl, and there is none (not /usr/bin/kubectl, not on PATH): install kubectl (e.g. `apt-get install kubectl` from the Kubernetes or Google Cloud apt repository) and run it again");
  }
  const script = process.argv[1];
  if (script === undefined) throw new FailedPreconditionError("podyard tutorial: cannot tell which script starts podyard");
  const t0 = performance.now();
  const work = await mkdtemp(join(tmpdir(), "podyard-tutorial-"));
  const home = join(work, "home");
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: join(home, "kubeconfig"), KUBECACHEDIR: join(work, "kube-cache"), PODYARD_HOME: home };
  const show = (cmd: string, r: Step): void => {
    say(`$ ${cmd}`);
    for (const line of `${r.stdout}${r.stderr}`.replace(/\n$/, "").split("\n")) if (line !== "") say(`  ${line}`);
  };
  const exec = async (file: string, args: string[], shown: string, timeoutMs = 120_000): Promise<Step> => {
    try {
      const r = await run(file, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 });
      const step = { stdout: r.stdout, stderr: r.stderr, code: 0 };
      show(shown, step);
      return step;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number | string; killed?: boolean; message: string };
      const step = { stdout: e.stdout ?? "", stderr: e.stderr ?? e.message, code: typeof e.code === "number" ? e.code : 1 };
      show(shown, step);
      throw new FailedPreconditionError(`tutorial step failed (exit ${String(e.code ?? "?")}${e.killed === true ? ", timed out" : ""}): ${shown}\n${step.stderr.trim()}`);
    }
  };
  const podyard = (args: string[]): Promise<Step> => exec(process.execPath, [...process.execArgv, script, ...args], `podyard ${args.join(" ")}`);
  const k = (args: string[], timeoutMs?: number): Promise<Step> => exec(kubectl, args, `kubectl ${args.join(" ")}`, timeoutMs);
  const expect = (what: string, got: string, want: string): void => {
    if (got.trim() !== want) throw new FailedPreconditionError(`tutorial check failed: ${what}: want ${JSON.stringify(want)}, got ${JSON.stringify(got.trim())}`);
    say(`  ✓ ${what}`);
  };

  let started = false;
  try {
    say(`==> The tutorial, with the real kubectl (${kubectl}); everything lives in ${work}`);
    await podyard(["up", "-d", "--home", home, "--api-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "--kubelet-port", "0"]);
    started = true;
    const info = await readUpInfo(home);
    if (!info) throw new FailedPreconditionError(`podyard up -d returned, but left no ${join(home, "up.json")}`);

    say(`==> Building a stand-in for alpine from Debian's busybox and pushing it to the embedded registry as library/alpine:latest`);
    const image = await buildBusyboxImage({ dir: join(work, "image"), tag: "latest" });
    const client = new RegistryClient({ baseUrl: `http://${info.registry}` });
    const blobPath = (d: Digest): string => join(image.dir, "blobs", "sha256", digestEncoded(d));
    const blobs: Descriptor[] = [image.manifest.config, ...image.manifest.layers];
    for (const desc of blobs) {
      await client.pushBlob("library/alpine", createReadStream(blobPath(desc.digest)), { digest: desc.digest, size: desc.size });
      say(`  ${digestEncoded(desc.digest).slice(0, 12)}: Pushed ${mb(desc.size)}`);
    }
    const manifestBytes = await readFile(blobPath(image.manifestDescriptor.digest));
    const pushed = await client.putManifest("library/alpine", "latest", manifestBytes, image.manifestDescriptor.mediaType);
    say(`  ${info.registry}/library/alpine:latest: digest: ${pushed} size: ${manifestBytes.length}`);

    const pods = join(work, "pods");
    await mkdir(pods);
    for (const [name, text] of Object.entries(SEED_PODS)) await writeFile(join(pods, name), text);
    say("==> The tutorial's pods, their YAML unchanged");
    await k(["apply", "-f", join(pods, "shared-volume-pod.yaml")]);
    await k(["apply", "-f", join(pods, "network-test-pod.yaml")]);
    await k(["wait", "--for=condition=Ready", "pod/shared-volume-pod", "pod/network-test-pod", "--timeout=180s"], 200_000);
    await k(["get", "pods"]);
    await k(["get", "pods", "-o", "wide"]);

    say("==> container-b reads what container-a wrote into the shared emptyDir volume");
    const cat = await k(["exec", "shared-volume-pod", "-c", "container-b", "--", "cat", "/mnt/vol/message"]);
    expect("shared-volume-pod: container-b reads the message container-a wrote", cat.stdout, "Hello from A");

    say("==> container-b reaches container-a's server on localhost: one network namespace per pod");
    const nc = await k(["exec", "network-test-pod", "-c", "container-b", "--", "nc", "localhost", "8080"]);
    expect("network-test-pod: nc localhost 8080 in container-b gets container-a's answer", nc.stdout, "Hello from A");

    say("==> The pod's events: the scheduler's, then the kubelet's image pulls and container starts");
    const described = await k(["describe", "pod", "shared-volume-pod"]);
    for (const reason of ["Scheduled", "Pulling", "Pulled", "Created", "Started"]) {
      if (!new RegExp(`\\b${reason}\\b`).test(described.stdout)) throw new FailedPreconditionError(`tutorial check failed: kubectl describe pod shared-volume-pod shows no ${reason} event`);
    }
    say("  ✓ describe shows the Scheduled, Pulling, Pulled, Created and Started events");
    await k(["describe", "pod", "network-test-pod"]);

    say("==> Cleaning up");
    await k(["delete", "pod", "shared-volume-pod", "network-test-pod", "--grace-period=1"], 180_000);
    await k(["get", "pods"]);
  } finally {
    if (started) await podyard(["down", "--home", home]).catch((err: unknown) => say(`podyard down failed: ${err instanceof Error ? err.message : String(err)}`));
    if (opts.keep) say(`  kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
  say(`==> Done in ${((performance.now() - t0) / 1000).toFixed(1)} s: both pods ran as the tutorial says, through the real kubectl`);
}

