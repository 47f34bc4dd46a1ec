/**
 * What `podyard up`, `podyard down` and `podyard kubelet` do. `up -d` starts the same
 * command again as a detached child (log in `$PODYARD_HOME/podyard.log`), which tells the
 * parent over an IPC channel once the node is Ready; the parent prints what the foreground
 * command prints and returns. SIGTERM or SIGINT stops the node and removes its pods'
 * containers and sandboxes; `podyard down` sends SIGTERM and waits until the process is gone.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { realClock } from "../../clock/index.js";
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from "../../errdefs/index.js";
import { podyardHome } from "../../fsutil/index.js";
import { openNodeEnv } from "../node-env.js";
import { withAgentFlags } from "./agent-heap.js";
import { startAgent, type RunningAgent } from "./agent.js";
import { currentCluster } from "./kubeconfig.js";
import type { Addr } from "./listen.js";
import { ensureSelfSignedKubeletCert } from "./pki.js";
import { realParts } from "./real-parts.js";
import { clearUpState, isPodyardProcess, logPath, readPid, runningUp, writeUpState, type UpInfo } from "./state.js";

export interface UpFlags {
  home?: string;
  apiAddr: Addr;
  registryAddr: Addr;
  kubeletPort: number;
  nodeName?: string;
  runtime: "crun" | "runc";
  mirror: boolean;
  mirrorUpstream?: string;
  writeKubeconfig?: boolean;
  detach?: boolean;
  podManifestPath?: string;
  serializeImagePulls?: boolean;
  maxParallelImagePulls?: number;
  /** podPidsLimit: -1 no limit */
  podMaxPids?: number;
}

export interface DownFlags {
  home?: string;
}

export interface KubeletFlags {
  kubeconfig: string;
  nodeName: string;
  home?: string;
  kubeletPort: number;
  nodeIP: string;
  clientCaFile?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  runtime: "crun" | "runc";
  podManifestPath?: string;
  /** podPidsLimit: -1 no limit */
  podMaxPids?: number;
}

const DETACHED_ENV = "PODYARD_UP_DETACHED";

/** A reader of our output that goes away (a closed terminal, a parent that died) must not stop the node's clean-up. */
function ignoreBrokenOutput(): void {
  for (const s of [process.stdout, process.stderr]) s.on("error", () => {});
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** The host name as a node name (a DNS-1123 subdomain: lower case, [a-z0-9.-]). */
export function defaultNodeName(): string {
  const n = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, "-").replace(/^[-.]+|[-.]+$/g, "");
  return n === "" ? "podyard" : n.slice(0, 253);
}

function checkNodeName(name: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253) {
    throw new InvalidArgumentError(`--node-name ${JSON.stringify(name)}: a node name must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.')`);
  }
  return name;
}

export function upReport(info: UpInfo): string[] {
  return [
    `podyard up: node ${info.nodeName} is Ready (${(info.readyAfterMs / 1000).toFixed(2)} s), pid ${info.pid}, state in ${info.home}`,
    `  API server  ${info.apiServer}  (bearer token in ${join(info.home, "token")})`,
    `  kubelet     https://127.0.0.1:${info.kubeletPort}`,
    `  registry    ${info.registry}${info.mirror ? "  (docker.io's first mirror: an image pushed as library/NAME here runs as NAME)" : "  (not a mirror: --no-mirror)"}`,
    `export KUBECONFIG=${info.kubeconfig}`,
  ];
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (sig: NodeJS.Signals): void => {
      if (seen) process.exit(sig === "SIGINT" ? 130 : 143);
      seen = true;
      resolve(sig);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

export async function up(flags: UpFlags): Promise<void> {
  const home = flags.home ?? podyardHome();
  const nodeName = checkNodeName(flags.nodeName ?? defaultNodeName());
  if (flags.maxParallelImagePulls !== undefined && flags.serializeImagePulls !== false) {
    throw new InvalidArgumentError("--max-parallel-image-pulls needs --serialize-image-pulls=false");
  }
  if (flags.detach === true) return detach(home);
  ignoreBrokenOutput();
  const agent: RunningAgent = await startAgent({
    home,
    apiAddr: flags.apiAddr,
    registryAddr: flags.registryAddr,
    kubeletPort: flags.kubeletPort,
    nodeName,
    runtime: flags.runtime,
    mirror: flags.mirror,
    ...(flags.mirrorUpstream !== undefined ? { mirrorUpstream: flags.mirrorUpstream } : {}),
    ...(flags.writeKubeconfig === true ? { writeKubeconfig: join(homedir(), ".kube", "config") } : {}),
    ...(flags.podManifestPath !== undefined ? { podManifestPath: flags.podManifestPath } : {}),
    ...(flags.podMaxPids !== undefined ? { podPidsLimit: flags.podMaxPids } : {}),
    imageConfig: {
      ...(flags.serializeImagePulls !== undefined ? { serializeImagePulls: flags.serializeImagePulls } : {}),
      ...(flags.maxParallelImagePulls !== undefined ? { maxParallelImagePulls: flags.maxParallelImagePulls } : {}),
    },
  }, realParts);
  const stopped = untilSignal();
  for (const line of upReport(agent.info)) say(line);
  if (process.env[DETACHED_ENV] === "1" && process.send) {
    process.send({ ready: agent.info });
    process.disconnect();
  }
  const sig = await stopped;
  process.stderr.write(`podyard up: ${sig}: stopping the node and removing its pods' containers\n`);
  await agent.stop({ removePods: true });
  process.stderr.write("podyard up: stopped\n");
}

function logTail(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-15).join("\n");
  } catch {
    return "";
  }
}

async function detach(home: string): Promise<void> {
  const other = await runningUp(home);
  if (other !== undefined) throw new FailedPreconditionError(`podyard up is already running for ${home} (pid ${other}): stop it with \`podyard down --home ${home}\``);
  const args = process.argv.slice(2).filter((a) => a !== "-d" && a !== "--detach");
  const script = process.argv[1];
  if (script === undefined) throw new FailedPreconditionError("podyard up -d: cannot tell which script to start again");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(home, { recursive: true });
  const log = logPath(home);
  const fd = openSync(log, "a");
  // the agent's heap settings, which only the command line can give (agent-heap.ts)
  const child = spawn(process.execPath, [...withAgentFlags(process.execArgv), script, ...args], {
    detached: true,
    stdio: ["ignore", fd, fd, "ipc"],
    env: { ...process.env, [DETACHED_ENV]: "1" },
  });
  closeSync(fd);
  const info = await new Promise<UpInfo>((resolve, reject) => {
    child.once("message", (m: { ready?: UpInfo }) => {
      if (m.ready) resolve(m.ready);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const tail = logTail(log);
      reject(new UnavailableError(`podyard up -d: the node process exited (${signal ?? `code ${code ?? "?"}`}) before the node was Ready; from ${log}:\n${tail}`));
    });
  });
  child.removeAllListeners("exit");
  if (child.connected) child.disconnect();
  child.unref();
  for (const line of upReport(info)) say(line);
  say(`  log         ${log}  (stop with: podyard down${home === podyardHome() ? "" : ` --home ${home}`})`);
}

export async function down(flags: DownFlags): Promise<void> {
  const home = flags.home ?? podyardHome();
  const pid = await runningUp(home);
  if (pid === undefined) {
    const stale = await readPid(home);
    if (stale !== undefined) await clearUpState(home, stale);
    say(`podyard down: no podyard up runs for ${home}`);
    return;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 120_000;
  while (await isPodyardProcess(pid)) {
    if (Date.now() > deadline) throw new UnavailableError(`podyard down: pid ${pid} is still running 120 s after SIGTERM; see ${logPath(home)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  say(`podyard down: stopped the node (pid ${pid}); its pods' containers and sandboxes are removed, the API's state stays in ${home}`);
}

export async function kubelet(flags: KubeletFlags): Promise<void> {
  const home = flags.home ?? podyardHome();
  const nodeName = checkNodeName(flags.nodeName);
  const other = await runningUp(home);
  if (other !== undefined && other !== process.pid) throw new FailedPreconditionError(`a podyard node already runs for ${home} (pid ${other}): give this kubelet its own --home`);
  ignoreBrokenOutput();
  const cluster = await currentCluster(flags.kubeconfig);
  const clientCA = flags.clientCaFile !== undefined ? await readFile(flags.clientCaFile) : cluster.ca;
  if (clientCA === undefined) throw new InvalidArgumentError(`kubeconfig ${flags.kubeconfig} has no CA: give the CA of the API server's client certificate with --client-ca-file`);
  const t0 = performance.now();
  if ((flags.tlsCertFile === undefined) !== (flags.tlsPrivateKeyFile === undefined)) throw new InvalidArgumentError("--tls-cert-file and --tls-private-key-file go together");
  const tls = flags.tlsCertFile !== undefined && flags.tlsPrivateKeyFile !== undefined
    ? { cert: await readFile(flags.tlsCertFile), key: await readFile(flags.tlsPrivateKeyFile) }
    : await ensureSelfSignedKubeletCert(home, nodeName, [flags.nodeIP]);
  if (flags.tlsCertFile === undefined) process.stderr.write("podyard kubelet: serving with a self-signed certificate; a podyard API server verifies kubelet certificates, so give one signed by its CA with --tls-cert-file for logs/exec\n");
  const env = await openNodeEnv({ home });
  let node;
  try {
    node = await realParts.startNode({
      home, env, kubeconfigPath: flags.kubeconfig, nodeName, nodeIP: flags.nodeIP, runtime: flags.runtime,
      kubeletPort: flags.kubeletPort, kubeletTls: { cert: tls.cert, key: tls.key, clientCA },
      ...(flags.podManifestPath !== undefined ? { podManifestPath: flags.podManifestPath } : {}),
      ...(flags.podMaxPids !== undefined ? { podPidsLimit: flags.podMaxPids } : {}),
      imageConfig: {}, clock: realClock, log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    env.close();
    throw err;
  }
  const stopped = untilSignal();
  await writeUpState({
    pid: process.pid, home, nodeName, apiServer: cluster.server, registry: "", kubeletPort: node.kubeletPort,
    kubeconfig: flags.kubeconfig, mirror: false, readyAfterMs: Math.round(performance.now() - t0),
  });
  say(`podyard kubelet: node ${nodeName} joined ${cluster.server}; kubelet on https://${flags.nodeIP}:${node.kubeletPort}, pid ${process.pid}`);
  const sig = await stopped;
  process.stderr.write(`podyard kubelet: ${sig}: stopping and removing this node's pods' containers\n`);
  await node.stop({ removePods: true });
  env.close();
  await clearUpState(home, process.pid);
}
