// Pod start benchmark (issue 8 §6): with the image present, from submission to all containers running,
// podyard's shared-volume-pod against `podman kube play` of the same YAML (isolated storage, --network none,
// runtime-notes §11) in the same run; then 100 single-container pods to all Running; then the agent's idle
// CPU and RSS with those 100 pods. Prints figures and ratios only. Run: npx tsx bench/pod-start/main.ts [--rounds N] [--pods N]
import { execFile } from "node:child_process";
import { readdirSync, rmdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { SEED_PODS } from "../../src/cli/tutorial/seed-pods.js";
import { podmanEnv, type PodmanEnv } from "../../test/helpers/containers-env.js";
import { optionsOrExitCode, parseFlags, positiveIntFlag } from "../flags.js";
import { allRunning, idleCpu, median, podyardMode, pushAlpine, removeBuild, removeImage, rssBytes, singlePod, startNode, type BenchNode, type PodyardMode } from "./up-node.js";

const run = promisify(execFile);
const USAGE = `Usage: npx tsx bench/pod-start/main.ts [--rounds N] [--pods N] [--no-podman] [--podyard compiled|tsx]

  --rounds N    shared-volume-pod starts per side (default 5)
  --pods N      single-container pods started at once (default 100)
  --no-podman   skip podman kube play
  --podyard M   run the agent bundled as 'npm run build' makes it (compiled, the default: what
                bin/podyard.js runs when dist/ is fresh) or from src/ through tsx
`;

interface Options {
  rounds: number;
  pods: number;
  podman: boolean;
  podyard: PodyardMode;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const v = parseFlags(argv, { rounds: { type: "string" }, pods: { type: "string" }, "no-podman": { type: "boolean" }, podyard: { type: "string" }, help: { type: "boolean" } });
  if (v.help === true) return undefined;
  return { rounds: positiveIntFlag(v.rounds, 5, "rounds"), pods: positiveIntFlag(v.pods, 100, "pods"), podman: v["no-podman"] !== true, podyard: podyardMode(v.podyard) };
}

async function waitDeleted(node: BenchNode, name: string): Promise<void> {
  for (;;) {
    const r = await node.api("GET", `/api/v1/namespaces/default/pods/${name}`);
    if (r.status === 404) return;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** ms from POST to every container running, seen through a watch. */
async function startPod(node: BenchNode, body: { metadata: { name: string } }): Promise<number> {
  const name = body.metadata.name;
  let done: (ms: number) => void = () => {};
  const seen = new Promise<number>((r) => (done = r));
  let t0 = 0;
  const close = await node.watch(`/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3D${name}`, (e) => {
    if (e.type !== "DELETED" && allRunning(e.object as never)) done(performance.now() - t0);
  });
  t0 = performance.now();
  const r = await node.api("POST", "/api/v1/namespaces/default/pods", body);
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  const ms = await seen;
  close();
  return ms;
}

async function podyardRounds(node: BenchNode, rounds: number): Promise<number[]> {
  const body = parse(SEED_PODS["shared-volume-pod.yaml"]) as { metadata: { name: string } };
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    out.push(await startPod(node, body));
    await node.api("DELETE", "/api/v1/namespaces/default/pods/shared-volume-pod?gracePeriodSeconds=1", { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 1 });
    await waitDeleted(node, "shared-volume-pod");
  }
  return out;
}

async function podmanRounds(imageDir: string, rounds: number): Promise<number[] | string> {
  const base = await mkdtemp(join(tmpdir(), "podyard-bench-podman-"));
  let env: PodmanEnv | undefined;
  try {
    env = await podmanEnv(base, "overlay");
    const penv = env;
    const podman = (args: string[]): Promise<{ stdout: string }> => run("podman", [...penv.globalFlags, ...args], { env: penv.env, maxBuffer: 16 << 20 });
    await podman(["pull", "-q", `oci:${imageDir}:latest`]);
    const id = (await podman(["images", "-q"])).stdout.trim().split("\n")[0] ?? "";
    await podman(["tag", id, "alpine"]);
    const yaml = join(base, "shared-volume-pod.yaml");
    await writeFile(yaml, SEED_PODS["shared-volume-pod.yaml"]);
    const out: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await podman(["kube", "play", "--network", "none", yaml]);
      for (;;) {
        const r = await podman(["inspect", "--format", "{{.State.Running}}", "shared-volume-pod-container-a", "shared-volume-pod-container-b"]).catch(() => ({ stdout: "" }));
        if (r.stdout.trim() === "true\ntrue") break;
      }
      out.push(performance.now() - t0);
      await podman(["pod", "rm", "-f", "-t", "0", "shared-volume-pod"]);
      await podman(["volume", "rm", "-f", "shared-storage"]).catch(() => {});
    }
    return out;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split("\n").slice(-2).join(" / ");
    return `${err instanceof Error ? err.message.split("\n")[0] ?? "failed" : String(err)}${stderr ? `: ${stderr}` : ""}`;
  } finally {
    if (env) {
      // reset unmounts what podman mounted in its storage before the directories go
      await run("podman", [...env.globalFlags, "system", "reset", "-f"], { env: env.env }).catch(() => {});
      for (const d of env.outside) await rm(d, { recursive: true, force: true }).catch(() => {});
    }
    await rm(base, { recursive: true, force: true }).catch(() => {});
    // podman's pod cgroups sit at the hierarchy roots and outlive `pod rm` (runtime-notes §11.4): empty ones go
    for (const h of readdirSync("/sys/fs/cgroup")) removeEmptyCgroups(join("/sys/fs/cgroup", h, "libpod_parent"));
  }
}

/** rmdir of `dir` and the cgroups below it, deepest first; one still in use stays. */
function removeEmptyCgroups(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeEmptyCgroups(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes
  }
}

async function main(): Promise<number> {
  const opts = optionsOrExitCode(process.argv.slice(2), parseOptions, USAGE);
  if (typeof opts === "number") return opts;
  const node = await startNode([], opts.podyard);
  process.stdout.write(`podyard runs ${opts.podyard === "compiled" ? "bundled as npm run build makes it" : "from src/ through tsx"}\n`);
  try {
    const image = await pushAlpine(node);
    process.stdout.write(`podyard up: node Ready after ${node.startMs.toFixed(0)} ms; image present after a warm-up pod\n`);
    await startPod(node, singlePod("warm-up") as never);
    await node.api("DELETE", "/api/v1/namespaces/default/pods/warm-up?gracePeriodSeconds=1", { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 1 });
    await waitDeleted(node, "warm-up");

    const ours = await podyardRounds(node, opts.rounds);
    process.stdout.write(`shared-volume-pod, submission to both containers running: podyard ${ours.map((x) => x.toFixed(0)).join(", ")} ms (median ${median(ours).toFixed(0)})\n`);
    if (opts.podman) {
      const theirs = await podmanRounds(image.dir, opts.rounds);
      if (typeof theirs === "string") process.stdout.write(`podman kube play: failed: ${theirs}\n`);
      else {
        process.stdout.write(`shared-volume-pod with podman kube play --network none: ${theirs.map((x) => x.toFixed(0)).join(", ")} ms (median ${median(theirs).toFixed(0)})\n`);
        process.stdout.write(`ratio podyard/podman: ${(median(ours) / median(theirs)).toFixed(2)} (target <= 0.25)\n`);
      }
    }

    const names = Array.from({ length: opts.pods }, (_, i) => `bench-${i}`);
    const running = new Set<string>();
    let allDone: () => void = () => {};
    const done = new Promise<void>((r) => (allDone = r));
    const close = await node.watch("/api/v1/namespaces/default/pods?watch=true", (e) => {
      if (e.type !== "DELETED" && e.object.metadata.name.startsWith("bench-") && allRunning(e.object as never)) running.add(e.object.metadata.name);
      if (running.size === names.length) allDone();
    });
    const t0 = performance.now();
    for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map((n) => node.api("POST", "/api/v1/namespaces/default/pods", singlePod(n))));
    await done;
    close();
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(`${names.length} single-container pods to all Running: ${secs.toFixed(2)} s (target < 15 s)\n`);
    await new Promise((r) => setTimeout(r, 3000));
    const cpu = await idleCpu(node.info.pid, 10_000);
    const rss = rssBytes(node.info.pid);
    process.stdout.write(`idle with ${names.length} pods: CPU ${(cpu * 100).toFixed(2)} % of a core (target < 1 %), RSS ${(rss / 1e6).toFixed(1)} MB (target < 150 MB)\n`);
    await node.api("DELETE", "/api/v1/namespaces/default/pods?gracePeriodSeconds=1", { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 1 });
    for (const n of names) await waitDeleted(node, n);
  } finally {
    await node.stop();
    await removeImage();
    await removeBuild();
  }
  return 0;
}

process.exitCode = await main();
