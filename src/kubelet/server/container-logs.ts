/** GET /containerLogs/{ns}/{pod}/{container}: the container's CRI log as plain text, streamed while following. */
import { access } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../../clock/index.js";
import { isLookupError, type KubeletProvider } from "./provider.js";
import { parseLogQuery, type ReadContainerLog } from "./log-options.js";
import { failureStatus, writeStatus } from "./status.js";

export interface ContainerLogsContext {
  provider: KubeletProvider;
  readContainerLog: ReadContainerLog;
  clock: Clock;
}

export async function serveContainerLogs(
  req: IncomingMessage,
  res: ServerResponse,
  target: { namespace: string; pod: string; container: string; query: URLSearchParams },
  ctx: ContainerLogsContext,
): Promise<void> {
  const q = parseLogQuery(target.query, ctx.clock.now());
  if ("error" in q) return writeStatus(res, failureStatus(400, "BadRequest", q.error));
  const found = await ctx.provider.lookupContainer(target.namespace, target.pod, target.container, { previous: q.previous });
  if (isLookupError(found)) return writeStatus(res, failureStatus(found.error.code, found.error.reason, found.error.message));

  try {
    await access(found.logPath);
  } catch (err) {
    return writeStatus(res, failureStatus(400, "BadRequest", `failed to open log file "${found.logPath}": ${(err as Error).message}`));
  }
  const abort = new AbortController();
  const onGone = (): void => abort.abort();
  req.once("close", onGone);
  res.once("close", onGone);
  const runtime = ctx.provider.runtime;
  const isRunning = async (): Promise<boolean> => {
    if (!found.running) return false;
    try {
      return (await runtime.containerStatus(found.containerId)).status.state === "CONTAINER_RUNNING";
    } catch {
      return false;
    }
  };
  res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked", "cache-control": "no-cache" });
  res.flushHeaders();
  try {
    await ctx.readContainerLog(found.logPath, { ...q.opts, follow: q.opts.follow && found.running, signal: abort.signal, isRunning, clock: ctx.clock }, res);
  } catch (err) {
    // Headers are gone: the kubelet can only end the stream early, with a note for whoever reads it.
    if (!res.destroyed) res.write(`failed to read log file ${found.logPath}: ${(err as Error).message}\n`);
  } finally {
    req.off("close", onGone);
    res.off("close", onGone);
    if (!res.destroyed) res.end();
  }
}
