/** Where the runtime keeps its state under $PODYARD_HOME (common layout: runtime/{crun,runc,sandboxes,containers}). */
import { join } from "node:path";

export interface RuntimePaths {
  root: string;
  /** The private `--root` of the OCI runtime. */
  ociRoot: string;
  /** The crun wrapper for hybrid-cgroup hosts (runtime-notes §3.1). */
  crunWrapper: string;
  sandboxes: string;
  containers: string;
  /** conmon's `--exit-dir`: one file per container, holding its exit code. */
  exits: string;
  sandbox(id: string): string;
  container(id: string): string;
}

export function runtimePaths(home: string, runtime: "crun" | "runc"): RuntimePaths {
  const root = join(home, "runtime");
  return {
    root,
    ociRoot: join(root, runtime),
    crunWrapper: join(root, "crunw"),
    sandboxes: join(root, "sandboxes"),
    containers: join(root, "containers"),
    exits: join(root, "exits"),
    sandbox: (id) => join(root, "sandboxes", id),
    container: (id) => join(root, "containers", id),
  };
}
