/**
 * The log query (kubelet server.go getContainerLogs → v1.PodLogOptions) and the reader the
 * server hands it to (src/runtime's readContainerLog unless the caller gives another).
 */
import type { Writable } from "node:stream";
import type { ReadLogOptions } from "../../runtime/index.js";

/** How the server reads a log: src/runtime's readContainerLog, or a stand-in with its signature. */
export type ReadContainerLog = (path: string, opts: ReadLogOptions, out: Writable) => Promise<void>;

export interface LogQuery {
  previous: boolean;
  opts: Pick<ReadLogOptions, "tailLines" | "sinceTime" | "limitBytes"> & Required<Pick<ReadLogOptions, "follow" | "timestamps" | "stream">>;
}

/** Parses the query; a value kube-apiserver would refuse gives the message to answer 400 with. */
export function parseLogQuery(query: URLSearchParams, now: number): LogQuery | { error: string } {
  const bool = (n: string): boolean => ["1", "true", "True"].includes(query.get(n) ?? "");
  const int = (n: string, min: number): number | undefined | { error: string } => {
    const v = query.get(n);
    if (v === null || v === "") return undefined;
    const x = Number(v);
    if (!Number.isInteger(x)) return { error: `invalid ${n}: ${v}` };
    if (x < min) return { error: `${n}: Invalid value: ${x}: must be ${min === 0 ? "greater than or equal to 0" : "greater than 0"}` };
    return x;
  };
  const tail = int("tailLines", 0);
  const limit = int("limitBytes", 1);
  const sinceSeconds = int("sinceSeconds", 1);
  for (const v of [tail, limit, sinceSeconds]) if (typeof v === "object") return v;
  let sinceTime: number | undefined;
  const st = query.get("sinceTime");
  if (st) {
    const t = Date.parse(st);
    if (Number.isNaN(t)) return { error: `invalid sinceTime: ${st}` };
    sinceTime = t;
  }
  if (sinceTime !== undefined && sinceSeconds !== undefined) return { error: "at most one of sinceTime or sinceSeconds may be specified" };
  if (typeof sinceSeconds === "number") sinceTime = now - sinceSeconds * 1000;
  const stream = query.get("stream") ?? "All";
  if (stream !== "All" && stream !== "Stdout" && stream !== "Stderr") return { error: `stream: Unsupported value: "${stream}": supported values: "All", "Stderr", "Stdout"` };
  const opts: LogQuery["opts"] = { follow: bool("follow"), timestamps: bool("timestamps"), stream };
  if (typeof tail === "number") opts.tailLines = tail;
  if (typeof limit === "number") opts.limitBytes = limit;
  if (sinceTime !== undefined) opts.sinceTime = sinceTime;
  return { previous: bool("previous"), opts };
}
