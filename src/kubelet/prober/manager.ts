/**
 * The probe manager (pkg/kubelet/prober): one worker per (container, probe type) ticking at the
 * probe's period on the injected clock, keeping consecutive results against the thresholds, and
 * the Unhealthy / ProbeWarning events. Results are keyed by container ID, so a new instance
 * starts again from the initial result (readiness Failure, liveness Success, startup Unknown).
 */
import type { Container, Pod, Probe } from "../../api/index.js";
import type { Clock } from "../../clock/index.js";
import type { RuntimeService } from "../../runtime/index.js";
import { podRef, type EventRecorder } from "../events/recorder.js";
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from "../runtime-state.js";
import type { ProbeView } from "../status/container-statuses.js";
import { runExecProbe, runHTTPProbe, runTCPProbe, type HandlerResult, type ProbeTarget } from "./handlers.js";
import type { ProbeResult, ProbeResults, ProbeType } from "./results.js";
import { errorMessage } from "../../errdefs/index.js";

const TITLE: Record<ProbeType, string> = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" };
const INITIAL: Record<ProbeType, ProbeResult> = { liveness: "Success", readiness: "Failure", startup: "Unknown" };

function probeOf(c: Container, type: ProbeType): Probe | undefined {
  return type === "liveness" ? c.livenessProbe : type === "readiness" ? c.readinessProbe : c.startupProbe;
}

export interface ProbeManagerOptions {
  runtime: RuntimeService;
  clock: Clock;
  recorder: EventRecorder;
  /** A stored result changed: the pod's worker should sync. */
  onResult(uid: string): void;
}

class Worker {
  pod: Pod;
  readonly container: Container;
  readonly type: ProbeType;
  stopped = false;
  lastId = "";
  onHold = false;
  lastResult: ProbeResult | undefined;
  resultRun = 0;
  readonly abort = new AbortController();
  constructor(pod: Pod, container: Container, type: ProbeType) {
    this.pod = pod;
    this.container = container;
    this.type = type;
  }
}

export class ProbeManager implements ProbeResults, ProbeView {
  readonly #o: ProbeManagerOptions;
  readonly #workers = new Map<string, Worker>();
  readonly #results = new Map<string, ProbeResult>();

  constructor(opts: ProbeManagerOptions) {
    this.#o = opts;
  }

  result(containerId: string, type: ProbeType): ProbeResult | undefined {
    return this.#results.get(`${containerId}/${type}`);
  }

  started(containerId: string, c: Container): boolean {
    return c.startupProbe ? this.result(containerId, "startup") === "Success" : true;
  }

  ready(containerId: string, c: Container): boolean {
    return c.readinessProbe ? this.result(containerId, "readiness") === "Success" : true;
  }

  addPod(pod: Pod): void {
    const uid = pod.metadata.uid ?? "";
    for (const [init, list] of [[true, pod.spec.initContainers ?? []], [false, pod.spec.containers]] as const) {
      for (const c of list) {
        if (init && c.restartPolicy !== "Always") continue;
        for (const type of ["liveness", "readiness", "startup"] as const) {
          const p = probeOf(c, type);
          if (!p) continue;
          const key = `${uid}/${c.name}/${type}`;
          const w = this.#workers.get(key);
          if (w) {
            w.pod = pod;
            continue;
          }
          const nw = new Worker(pod, c, type);
          this.#workers.set(key, nw);
          void this.#run(nw, p);
        }
      }
    }
  }

  removePod(uid: string): void {
    for (const [k, w] of this.#workers) {
      if (k.startsWith(`${uid}/`)) {
        w.stopped = true;
        w.abort.abort();
        this.#workers.delete(k);
        // the pod's last results go with it
        if (w.lastId) this.#results.delete(`${w.lastId}/${w.type}`);
      }
    }
  }

  stop(): void {
    for (const w of this.#workers.values()) {
      w.stopped = true;
      w.abort.abort();
    }
    this.#workers.clear();
  }

  async #run(w: Worker, p: Probe): Promise<void> {
    const period = (p.periodSeconds ?? 10) * 1000;
    while (!w.stopped) {
      const keep = await this.#doProbe(w, p).catch(() => true);
      if (!keep || w.stopped) break;
      try {
        await this.#o.clock.sleep(period, w.abort.signal);
      } catch {
        break;
      }
    }
    this.#workers.delete(`${w.pod.metadata.uid ?? ""}/${w.container.name}/${w.type}`);
  }

  #set(w: Worker, id: string, r: ProbeResult): void {
    const key = `${id}/${w.type}`;
    if (this.#results.get(key) === r) return;
    this.#results.set(key, r);
    this.#o.onResult(w.pod.metadata.uid ?? "");
  }

  /** One tick (doProbe); false ends the worker. */
  async #doProbe(w: Worker, p: Probe): Promise<boolean> {
    const rt = this.#o.runtime;
    const uid = w.pod.metadata.uid ?? "";
    const list = await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: w.container.name } });
    list.sort((a, b) => Number(b.createdAt - a.createdAt));
    const c = list[0];
    if (!c) return true;
    if (c.id !== w.lastId) {
      if (w.lastId) this.#results.delete(`${w.lastId}/${w.type}`);
      w.lastId = c.id;
      w.onHold = false;
      w.lastResult = undefined;
      w.resultRun = 0;
      this.#set(w, c.id, INITIAL[w.type]);
    }
    if (w.onHold) return true;
    if (c.state !== "CONTAINER_RUNNING") {
      this.#set(w, c.id, "Failure");
      return !(c.state === "CONTAINER_EXITED" && w.pod.spec.restartPolicy === "Never");
    }
    if (w.pod.metadata.deletionTimestamp && w.type !== "readiness") {
      this.#set(w, c.id, "Success");
      return false;
    }
    const st = await rt.containerStatus(c.id);
    const startedMs = Number(st.status.startedAt / 1_000_000n);
    if (this.#o.clock.now() - startedMs < (p.initialDelaySeconds ?? 0) * 1000) return true;
    const started = this.started(c.id, w.container);
    if (w.type === "startup" ? started : !started) return true;
    const boxes = await rt.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } });
    const sb = boxes.find((b) => b.state === "SANDBOX_READY") ?? boxes[0];
    const ip = sb ? (await rt.podSandboxStatus(sb.id).catch(() => undefined))?.status.network?.ip ?? "" : "";
    const target: ProbeTarget = { runtime: rt, containerId: c.id, sandboxId: sb?.id ?? c.podSandboxId, podIP: ip, container: w.container };
    // as GenerateContainerRef: a name not among the regular containers is looked up in the init containers (sidecars are probed too)
    const name = w.container.name;
    const init = !w.pod.spec.containers.some((x) => x.name === name) && (w.pod.spec.initContainers ?? []).some((x) => x.name === name);
    const ref = podRef(w.pod, { name, init });
    let out: HandlerResult | undefined;
    let lastErr: unknown;
    for (let i = 0; i < 3 && !out; i++) {
      try {
        out = p.exec ? await runExecProbe(target, p) : p.httpGet ? await runHTTPProbe(target, p) : p.tcpSocket ? await runTCPProbe(target, p) : { result: "Success", output: "" };
      } catch (err) {
        lastErr = err;
      }
    }
    if (!out) {
      this.#o.recorder.event(ref, "Warning", "Unhealthy", `${TITLE[w.type]} probe errored and resulted in unknown state: ${errorMessage(lastErr)}`);
      return true;
    }
    let result: ProbeResult = "Success";
    if (out.result === "Failure") {
      result = "Failure";
      this.#o.recorder.event(ref, "Warning", "Unhealthy", `${TITLE[w.type]} probe failed: ${out.output}`);
    } else if (out.result === "Warning") {
      this.#o.recorder.event(ref, "Warning", "ProbeWarning", `${TITLE[w.type]} probe warning: ${out.output}`);
    }
    if (w.lastResult === result) w.resultRun++;
    else {
      w.lastResult = result;
      w.resultRun = 1;
    }
    if ((result === "Failure" && w.resultRun < (p.failureThreshold ?? 3)) || (result === "Success" && w.resultRun < (p.successThreshold ?? 1))) return true;
    this.#set(w, c.id, result);
    // a liveness failure, or a startup probe's verdict either way, holds until the next instance
    if ((w.type === "liveness" && result === "Failure") || w.type === "startup") {
      w.onHold = true;
      w.resultRun = 0;
    }
    return true;
  }
}
