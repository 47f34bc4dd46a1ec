/** The kubelet server's paths (pkg/kubelet/server/server.go), parsed into what each handler needs. */

export type KubeletRoute =
  | { kind: "healthz" }
  | { kind: "pods" }
  | { kind: "runningpods" }
  | { kind: "statsSummary" }
  | { kind: "containerLogs"; namespace: string; pod: string; container: string }
  | { kind: "exec" | "attach"; namespace: string; pod: string; container: string }
  | { kind: "portForward"; namespace: string; pod: string };

function segments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** The route of a path, or undefined for 404. exec/attach also take `/{ns}/{pod}/{uid}/{container}` as the kubelet does. */
export function matchRoute(pathname: string): KubeletRoute | undefined {
  const s = segments(pathname);
  if (s === undefined) return undefined;
  const [head, ...rest] = s;
  switch (head) {
    case "healthz": return rest.length === 0 ? { kind: "healthz" } : undefined;
    case "pods": return rest.length === 0 ? { kind: "pods" } : undefined;
    case "runningpods": return rest.length === 0 ? { kind: "runningpods" } : undefined;
    case "stats": return rest.length === 1 && rest[0] === "summary" ? { kind: "statsSummary" } : undefined;
    case "containerLogs":
      return rest.length === 3 ? { kind: "containerLogs", namespace: rest[0] ?? "", pod: rest[1] ?? "", container: rest[2] ?? "" } : undefined;
    case "exec":
    case "attach":
      if (rest.length === 3) return { kind: head, namespace: rest[0] ?? "", pod: rest[1] ?? "", container: rest[2] ?? "" };
      if (rest.length === 4) return { kind: head, namespace: rest[0] ?? "", pod: rest[1] ?? "", container: rest[3] ?? "" };
      return undefined;
    case "portForward":
      if (rest.length === 2 || rest.length === 3) return { kind: "portForward", namespace: rest[0] ?? "", pod: rest[1] ?? "" };
      return undefined;
    default:
      return undefined;
  }
}

/** A boolean query flag as the kubelet reads it: `1` or `true` (either of two names). */
export function queryFlag(query: URLSearchParams, ...names: string[]): boolean {
  return names.some((n) => {
    const v = query.get(n);
    return v === "1" || v === "true" || v === "True";
  });
}
