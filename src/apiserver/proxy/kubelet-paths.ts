/** The kubelet URL of a pod subresource (kube-apiserver's LogLocation, streamLocation, PortForwardLocation). */
import type { Pod } from "../../api/index.js";

function podPath(pod: Pod): string {
  return `${encodeURIComponent(pod.metadata.namespace ?? "default")}/${encodeURIComponent(pod.metadata.name ?? "")}`;
}

const TRUE = new Set(["1", "true", "True", "TRUE"]);

export function logPath(pod: Pod, container: string, query: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const flag of ["follow", "previous", "timestamps"]) if (TRUE.has(query.get(flag) ?? "")) out.set(flag, "true");
  for (const n of ["sinceSeconds", "sinceTime", "tailLines", "limitBytes", "stream"]) {
    const v = query.get(n);
    if (v !== null && v !== "") out.set(n, v);
  }
  const qs = out.toString();
  return `/containerLogs/${podPath(pod)}/${encodeURIComponent(container)}${qs ? `?${qs}` : ""}`;
}

/** exec/attach: `command` repeated, then the kubelet's short stream names. */
export function streamPath(pod: Pod, subresource: "exec" | "attach", container: string, query: URLSearchParams): string {
  const out = new URLSearchParams();
  if (subresource === "exec") for (const c of query.getAll("command")) out.append("command", c);
  const pairs: [string, string][] = [["stdin", "input"], ["stdout", "output"], ["stderr", "error"], ["tty", "tty"]];
  for (const [api, kubelet] of pairs) if (TRUE.has(query.get(api) ?? "")) out.set(kubelet, "1");
  const qs = out.toString();
  return `/${subresource}/${podPath(pod)}/${encodeURIComponent(container)}${qs ? `?${qs}` : ""}`;
}

export function portForwardPath(pod: Pod, query: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const p of query.getAll("ports")) out.append("port", p);
  for (const p of query.getAll("port")) out.append("port", p);
  const qs = out.toString();
  return `/portForward/${podPath(pod)}${qs ? `?${qs}` : ""}`;
}
