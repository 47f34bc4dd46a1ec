// API benchmark (issue 9 §7): `podyard up` from start to the node Ready; `kubectl get pods` with 100 pods
// (the server's time for its Table request, and kubectl's whole run); create-to-watch-event latency; idle
// RSS of `podyard up` with no pods and with 100. Prints figures against the targets. Run: npx tsx bench/api/main.ts [--pods N]
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { optionsOrExitCode, parseFlags, positiveIntFlag } from "../flags.js";
import { median, podyardMode, pushAlpine, removeBuild, removeImage, rssBytes, singlePod, startNode, type PodyardMode } from "../pod-start/up-node.js";

const run = promisify(execFile);
const USAGE = `Usage: npx tsx bench/api/main.ts [--pods N] [--starts N] [--podyard compiled|tsx]

  --pods N      pods listed and watched (default 100)
  --starts N    podyard up starts timed (default 3)
  --podyard M   run the agent bundled as 'npm run build' makes it (compiled, the default: what
                bin/podyard.js runs when dist/ is fresh) or from src/ through tsx
`;
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

function parseOptions(argv: readonly string[]): { pods: number; starts: number; podyard: PodyardMode } | undefined {
  const v = parseFlags(argv, { pods: { type: "string" }, starts: { type: "string" }, podyard: { type: "string" }, help: { type: "boolean" } });
  if (v.help === true) return undefined;
  return { pods: positiveIntFlag(v.pods, 100, "pods"), starts: positiveIntFlag(v.starts, 3, "starts"), podyard: podyardMode(v.podyard) };
}

async function main(): Promise<number> {
  const opts = optionsOrExitCode(process.argv.slice(2), parseOptions, USAGE);
  if (typeof opts === "number") return opts;
  process.stdout.write(`podyard runs ${opts.podyard === "compiled" ? "bundled as npm run build makes it" : "from src/ through tsx"}\n`);
  const starts: number[] = [];
  for (let i = 0; i < opts.starts; i++) {
    const n = await startNode([], opts.podyard);
    starts.push(n.info.readyAfterMs);
    process.stdout.write(`podyard up, start to node Ready: ${n.info.readyAfterMs} ms in the process (${n.startMs.toFixed(0)} ms from spawn, Node start-up included)\n`);
    await n.stop();
  }
  process.stdout.write(`start to node Ready, median ${median(starts).toFixed(0)} ms (target < 1000 ms; k3s needs tens of seconds)\n`);

  const node = await startNode([], opts.podyard);
  const cache = await mkdtemp(join(tmpdir(), "podyard-bench-kubecache-"));
  try {
    await new Promise((r) => setTimeout(r, 3000));
    process.stdout.write(`idle RSS with no pods: ${(rssBytes(node.info.pid) / 1e6).toFixed(1)} MB (target < 120 MB; a k3s agent alone is about 275 MB)\n`);
    await pushAlpine(node);
    const latencies: number[] = [];
    for (let i = 0; i < opts.pods; i++) {
      const name = `api-${String(i).padStart(3, "0")}`;
      let t0 = 0;
      let seen: () => void = () => {};
      const got = new Promise<void>((r) => (seen = r));
      const close = await node.watch(`/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3D${name}`, (e) => {
        if (e.type === "ADDED") seen();
      });
      t0 = performance.now();
      await node.api("POST", "/api/v1/namespaces/default/pods", singlePod(name));
      await got;
      latencies.push(performance.now() - t0);
      close();
    }
    process.stdout.write(`create to watch event: median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} pods\n`);
    const gets: number[] = [];
    for (let i = 0; i < 20; i++) gets.push((await node.api("GET", "/api/v1/namespaces/default/pods?limit=500", undefined, { Accept: TABLE })).ms);
    process.stdout.write(`GET pods as a Table with ${opts.pods} pods (what kubectl get pods asks): median ${median(gets).toFixed(1)} ms (target < 50 ms)\n`);
    if (existsSync("/usr/bin/kubectl")) {
      const env = { ...process.env, KUBECONFIG: node.info.kubeconfig, KUBECACHEDIR: cache };
      await run("/usr/bin/kubectl", ["get", "pods"], { env });
      const walls: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await run("/usr/bin/kubectl", ["get", "pods"], { env, maxBuffer: 16 << 20 });
        walls.push(performance.now() - t0);
      }
      process.stdout.write(`kubectl get pods, whole run: median ${median(walls).toFixed(0)} ms\n`);
    } else {
      process.stdout.write("kubectl get pods: skipped, /usr/bin/kubectl is not installed\n");
    }
    await new Promise((r) => setTimeout(r, 5000));
    process.stdout.write(`idle RSS with ${opts.pods} pods: ${(rssBytes(node.info.pid) / 1e6).toFixed(1)} MB (target < 120 MB)\n`);
    await node.api("DELETE", "/api/v1/namespaces/default/pods?gracePeriodSeconds=1", { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 1 });
  } finally {
    await node.stop();
    await rm(cache, { recursive: true, force: true });
    await removeImage();
    await removeBuild();
  }
  return 0;
}

process.exitCode = await main();
