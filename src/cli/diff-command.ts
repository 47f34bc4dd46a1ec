/**
 * `podyard diff POD [-c CONTAINER] [-n NAMESPACE]`: what a pod's container added (A), changed (C)
 * and deleted (D) in its writable layer, one `KIND /path` line each as `docker diff` prints them.
 * It reads the runtime's records under the home, so it works beside a running agent and after
 * the container exited. Failures are thrown as podyard errors: main.ts prints them and exits
 * with their code (a pod or container not found 3, several containers and no -c 2).
 */
import { Command } from "commander";

export interface DiffFlags {
  container?: string;
  namespace: string;
  home?: string;
}

export interface DiffOutput {
  write(text: string): unknown;
}

export function diffCommand(out: DiffOutput = process.stdout): Command {
  return new Command("diff")
    .description("List the files a pod's container added (A), changed (C) and deleted (D), as `docker diff` does")
    .argument("<pod>", "the pod's name (pod/NAME works too)")
    .option("-c, --container <name>", "the container (required when the pod has several)")
    .option("-n, --namespace <namespace>", "the pod's namespace", "default")
    .option("--home <dir>", "state directory (default $PODYARD_HOME, else /var/lib/podyard as root)")
    .action(async (pod: string, flags: DiffFlags) => {
      const [{ podyardHome }, { formatChanges, podContainerDiff }] = await Promise.all([import("../fsutil/index.js"), import("../runtime/index.js")]);
      const diff = await podContainerDiff({
        home: flags.home ?? podyardHome(),
        namespace: flags.namespace,
        pod: pod.replace(/^pods?\//, ""),
        ...(flags.container !== undefined ? { container: flags.container } : {}),
      });
      out.write(formatChanges(diff.changes));
    });
}
