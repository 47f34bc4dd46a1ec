/** The prober's results, as the sync and the status read them (prober results.Manager). */
export type ProbeType = "liveness" | "readiness" | "startup";
export type ProbeResult = "Success" | "Failure" | "Unknown";

export interface ProbeResults {
  /** The stored result of the container's probe of this type; undefined when it has no such probe (or no worker yet). */
  result(containerId: string, type: ProbeType): ProbeResult | undefined;
}

export const NO_PROBE_RESULTS: ProbeResults = { result: () => undefined };
