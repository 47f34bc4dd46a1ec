/**
 * Lifecycle hooks (pkg/kubelet/lifecycle handlers.go): postStart and preStop as exec in the
 * container, httpGet through the pod's network namespace (the probe's handler), or sleep.
 */
import type { Container, LifecycleHandler } from "../api/index.js";
import type { Clock } from "../clock/index.js";
import type { RuntimeService } from "../runtime/index.js";
import { runHTTPProbe } from "./prober/handlers.js";
import { errorMessage } from "../errdefs/index.js";

export interface HookTarget {
  runtime: RuntimeService;
  clock: Clock;
  containerId: string;
  sandboxId: string;
  container: Container;
  /** Seconds the hook may take (a preStop hook gets the grace period); 0 = no limit. */
  timeoutSeconds: number;
}

/** Runs the handler; resolves with whether it succeeded and its output or error. */
export async function runLifecycleHandler(h: LifecycleHandler, t: HookTarget): Promise<{ ok: boolean; message: string }> {
  try {
    if (h.exec?.command) {
      const r = await t.runtime.execSync(t.containerId, h.exec.command, t.timeoutSeconds);
      const out = Buffer.concat([r.stdout, r.stderr]).toString("utf8");
      return r.exitCode === 0 ? { ok: true, message: out } : { ok: false, message: `command '${h.exec.command.join(" ")}' exited with ${r.exitCode}: ${out}` };
    }
    if (h.httpGet) {
      const st = await t.runtime.podSandboxStatus(t.sandboxId);
      const r = await runHTTPProbe({ runtime: t.runtime, containerId: t.containerId, sandboxId: t.sandboxId, podIP: st.status.network?.ip ?? "", container: t.container }, { httpGet: h.httpGet, timeoutSeconds: t.timeoutSeconds || 30 });
      return r.result === "Failure" ? { ok: false, message: r.output } : { ok: true, message: r.output };
    }
    if (h.sleep) {
      const ms = h.sleep.seconds * 1000;
      await t.clock.sleep(t.timeoutSeconds > 0 ? Math.min(ms, t.timeoutSeconds * 1000) : ms);
      return { ok: true, message: "" };
    }
    return { ok: true, message: "" };
  } catch (err) {
    return { ok: false, message: errorMessage(err) };
  }
}
