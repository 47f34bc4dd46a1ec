/**
 * `podyard up` in one process: the registry (docker.io's first mirror), the API server over
 * HTTPS, the kubelet with its HTTPS server, and the scheduler, all on loopback by default.
 * Resolves once the node is Ready in the API. Stopping removes every pod's containers and
 * sandbox (nothing is left running) and keeps the API's state, so the next start carries on.
 */
import { createServer as createHttpsServer } from "node:https";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { realClock, type Clock } from "../../clock/index.js";
import { FailedPreconditionError, UnavailableError } from "../../errdefs/index.js";
import type { ImageManagerConfig } from "../../images/index.js";
import { HttpSchedulerApi, nodeReady, Scheduler } from "../../scheduler/index.js";
import { openNodeEnv, type NodeEnv } from "../node-env.js";
import { ensureToken, makeAuthenticator } from "./credentials.js";
import { configureDockerHubMirror, createEmbeddedRegistry } from "./embedded-registry.js";
import { mergeKubeconfig, writeKubeconfig } from "./kubeconfig.js";
import { formatAddr, listenError, listenOn, type Addr } from "./listen.js";
import type { AgentParts, RunningApiServer, RunningNode } from "./parts.js";
import { ensurePki } from "./pki.js";
import { clearUpState, runningUp, writeUpState, type UpInfo } from "./state.js";

export interface UpOptions {
  home: string;
  apiAddr: Addr;
  registryAddr: Addr;
  kubeletPort: number;
  nodeName: string;
  runtime: "crun" | "runc";
  /** docker.io resolves through the embedded registry first (default true) */
  mirror: boolean;
  /** the registry the mirror pulls through from; default docker.io; null: none */
  mirrorUpstream?: string | null;
  /** merge a podyard context into this kubeconfig (~/.kube/config for --write-kubeconfig) */
  writeKubeconfig?: string;
  podManifestPath?: string;
  /** the kubelet's podPidsLimit (--pod-max-pids); -1 or absent: no limit */
  podPidsLimit?: number;
  imageConfig?: ImageManagerConfig;
  clock?: Clock;
  log?: (line: string) => void;
  /** how long to wait for the node to become Ready (default 60 s) */
  readyTimeoutMs?: number;
}

export interface RunningAgent {
  info: UpInfo;
  /** stops everything; `removePods` (default true) also removes every pod's containers and sandbox */
  stop(opts?: { removePods?: boolean }): Promise<void>;
}

type Closer = () => Promise<void> | void;

export async function startAgent(opts: UpOptions, parts: AgentParts): Promise<RunningAgent> {
  const t0 = performance.now();
  const clock = opts.clock ?? realClock;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const home = opts.home;
  await mkdir(home, { recursive: true });
  const other = await runningUp(home);
  if (other !== undefined && other !== process.pid) throw new FailedPreconditionError(`podyard up is already running for ${home} (pid ${other}): stop it with \`podyard down --home ${home}\``);

  const closers: Closer[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log(`podyard up: while stopping: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    closers.length = 0;
  };
  let node: RunningNode | undefined;
  try {
    const apiHost = opts.apiAddr.host;
    const pki = await ensurePki(home, { nodeName: opts.nodeName, apiServerHosts: apiHost === "0.0.0.0" || apiHost === "::" ? [] : [apiHost] });
    const token = await ensureToken(home);

    // the listeners first, so a taken port fails before anything else is started
    const https = createHttpsServer({ cert: pki.apiServer.cert, key: pki.apiServer.key, ca: pki.ca, requestCert: true, rejectUnauthorized: false });
    const apiPort = await listenOn(https, opts.apiAddr, "the API server", "--api-addr");
    closers.push(() => new Promise<void>((r) => {
      https.close(() => r());
      https.closeAllConnections();
    }));
    const registry = createEmbeddedRegistry({
      root: join(home, "registry"),
      upstreamUrl: opts.mirrorUpstream,
      clock,
      log: () => {},
    });
    let registryAddr: string;
    try {
      await registry.listen(opts.registryAddr.port, opts.registryAddr.host);
      registryAddr = new URL(registry.url).host;
    } catch (err) {
      throw listenError(err, opts.registryAddr, "the registry", "--registry-addr");
    }
    closers.push(() => registry.close());

    await configureDockerHubMirror(home, opts.mirror ? registryAddr : undefined);
    const env: NodeEnv = await openNodeEnv({ home });
    closers.push(() => env.close());

    const apiServerUrl = `https://${formatAddr({ host: apiHost === "0.0.0.0" ? "127.0.0.1" : apiHost === "::" ? "::1" : apiHost, port: apiPort })}`;
    const serverAddress = new URL(apiServerUrl).host;
    const api: RunningApiServer = await parts.startApiServer({
      home, server: https, authenticate: makeAuthenticator(token), kubeletClient: pki.apiServerKubeletClient, kubeletCA: pki.ca, serverAddress, clock,
    });
    closers.push(() => api.close());

    const kubeconfig = join(home, "kubeconfig");
    const entries = { server: apiServerUrl, ca: pki.ca, token };
    await writeKubeconfig(kubeconfig, entries);
    if (opts.writeKubeconfig !== undefined) await mergeKubeconfig(opts.writeKubeconfig, entries);

    node = await parts.startNode({
      home, env, kubeconfigPath: kubeconfig, nodeName: opts.nodeName, nodeIP: "127.0.0.1", runtime: opts.runtime,
      kubeletPort: opts.kubeletPort, kubeletTls: { cert: pki.kubelet.cert, key: pki.kubelet.key, clientCA: pki.ca },
      ...(opts.podManifestPath !== undefined ? { podManifestPath: opts.podManifestPath } : {}),
      ...(opts.podPidsLimit !== undefined ? { podPidsLimit: opts.podPidsLimit } : {}),
      imageConfig: opts.imageConfig ?? {}, clock, log,
    });

    const schedulerApi = new HttpSchedulerApi({ server: apiServerUrl, ca: pki.ca, token });
    const scheduler = new Scheduler({ api: schedulerApi, clock, log });
    scheduler.start();
    closers.push(() => scheduler.stop());

    await waitForNodeReady(schedulerApi, opts.nodeName, opts.readyTimeoutMs ?? 60_000);
    const info: UpInfo = {
      pid: process.pid, home, nodeName: opts.nodeName, apiServer: apiServerUrl, registry: registryAddr,
      kubeletPort: node.kubeletPort, kubeconfig, mirror: opts.mirror, readyAfterMs: Math.round(performance.now() - t0),
    };
    await writeUpState(info);
    let stopping: Promise<void> | undefined;
    const running = node;
    return {
      info,
      stop: (o = {}) => (stopping ??= (async () => {
        // the scheduler goes first, so no pod is bound while the node goes away
        await scheduler.stop();
        await running.stop({ removePods: o.removePods ?? true }).catch((err: unknown) => log(`podyard up: stopping the kubelet: ${err instanceof Error ? err.message : String(err)}`));
        await closeAll();
        await clearUpState(home, process.pid);
      })()),
    };
  } catch (err) {
    if (node) await node.stop({ removePods: false }).catch(() => {});
    await closeAll();
    throw err;
  }
}

async function waitForNodeReady(api: HttpSchedulerApi, nodeName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "not registered yet";
  for (;;) {
    try {
      const node = (await api.listNodes()).find((n) => n.metadata.name === nodeName);
      if (node && nodeReady(node) === "True") return;
      if (node) last = `Ready is ${nodeReady(node)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new UnavailableError(`podyard up: node ${nodeName} did not become Ready within ${Math.round(timeoutMs / 1000)} s (${last})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
