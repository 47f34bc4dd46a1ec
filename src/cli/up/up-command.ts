/** `podyard up`, `podyard down` and `podyard kubelet`; what they do is in up-actions.ts, imported when they run. */
import { Command, InvalidArgumentError, Option } from "commander";
import { optionWithDefault, parseAddr, parsePositiveInt } from "../parse-flags.js";
import { tuneAgentHeap } from "./agent-heap.js";
import type { DownFlags, KubeletFlags, UpFlags } from "./up-actions.js";

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`want a port number (0 picks a free one), got ${JSON.stringify(value)}`);
  return n;
}

/** --pod-max-pids: a positive count, or -1 for no limit (the kubelet's podPidsLimit). */
function parsePodMaxPids(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || (n <= 0 && n !== -1)) throw new InvalidArgumentError(`want a positive number of processes, or -1 for no limit, got ${JSON.stringify(value)}`);
  return n;
}

const podMaxPidsOption = (): Option => new Option("--pod-max-pids <n>", "the most processes each pod may run, all its containers together (-1: no limit)").argParser(parsePodMaxPids).default(-1);

function parseBool(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError(`want true or false, got ${JSON.stringify(value)}`);
}

const runtimeOption = (): Option => new Option("--runtime <name>", "the OCI runtime that runs containers").choices(["crun", "runc"]).default("crun");

export function upCommands(): Command[] {
  const up = new Command("up")
    .description("Start the node: API server (HTTPS), kubelet, scheduler and registry (docker.io's first mirror), on loopback")
    .option("--home <dir>", "state directory (default $PODYARD_HOME, else /var/lib/podyard as root)")
    .addOption(optionWithDefault("--api-addr <host:port>", "where the API server listens (port 0: a free one)", "127.0.0.1:6443", parseAddr))
    .addOption(optionWithDefault("--registry-addr <host:port>", "where the embedded registry listens", "127.0.0.1:5000", parseAddr))
    .addOption(optionWithDefault("--kubelet-port <n>", "the kubelet's HTTPS port", "10250", parsePort))
    .option("--node-name <name>", "the node's name (default: the host name)")
    .addOption(runtimeOption())
    .option("--no-mirror", "do not resolve docker.io through the embedded registry")
    .addOption(new Option("--mirror-upstream <url>", "the registry the mirror pulls missing images from (default https://registry-1.docker.io)").hideHelp())
    .option("--write-kubeconfig", "also merge a podyard context into ~/.kube/config (and make it current)")
    .option("-d, --detach", "run in the background (pid in $PODYARD_HOME/podyard.pid, log in podyard.log); return once the node is Ready")
    .option("--pod-manifest-path <dir>", "run the pods whose manifests are in this directory (static pods, mirrored in the API)")
    .addOption(new Option("--serialize-image-pulls <bool>", "pull one image at a time (default true)").argParser(parseBool))
    .addOption(new Option("--max-parallel-image-pulls <n>", "with --serialize-image-pulls=false: at most this many pulls at once").argParser(parsePositiveInt))
    .addOption(podMaxPidsOption())
    .action(async (flags: UpFlags) => {
      tuneAgentHeap();
      return (await import("./up-actions.js")).up(flags);
    });
  const down = new Command("down")
    .description("Stop the node that `podyard up` started: every pod's containers are removed, the API's state is kept")
    .option("--home <dir>", "state directory (default $PODYARD_HOME, else /var/lib/podyard as root)")
    .action(async (flags: DownFlags) => (await import("./up-actions.js")).down(flags));
  const kubelet = new Command("kubelet")
    .description("Join another podyard API server as a node: run its pods here")
    .requiredOption("--kubeconfig <file>", "how to reach the API server (server, CA, token or client certificate)")
    .requiredOption("--node-name <name>", "this node's name")
    .option("--home <dir>", "state directory (default $PODYARD_HOME, else /var/lib/podyard as root)")
    .addOption(optionWithDefault("--kubelet-port <n>", "the kubelet's HTTPS port", "10250", parsePort))
    .option("--node-ip <ip>", "the address the API server reaches this kubelet at", "127.0.0.1")
    .option("--client-ca-file <file>", "CA of the API server's client certificate (default: the kubeconfig's CA)")
    .option("--tls-cert-file <file>", "the kubelet's serving certificate, signed by the cluster's CA (default: a self-signed one, which the API server does not accept for logs/exec)")
    .option("--tls-private-key-file <file>", "the key of --tls-cert-file")
    .addOption(runtimeOption())
    .option("--pod-manifest-path <dir>", "run the pods whose manifests are in this directory (static pods)")
    .addOption(podMaxPidsOption())
    .action(async (flags: KubeletFlags) => {
      tuneAgentHeap();
      return (await import("./up-actions.js")).kubelet(flags);
    });
  return [up, down, kubelet];
}
