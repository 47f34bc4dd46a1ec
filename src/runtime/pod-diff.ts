/**
 * `podyard diff POD [-c CONTAINER]` from another process than the agent: reads the runtime's
 * records under $PODYARD_HOME directly (no init, so nothing of the running agent's is touched)
 * and diffs the container's writable layer.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError } from "../errdefs/index.js";
import { overlayChanges, withoutMountPoints, type Change } from "./container-diff.js";
import { runtimePaths } from "./paths.js";
import { CONTAINER_FILE, readRecord, SANDBOX_FILE, type ContainerRecord, type SandboxRecord } from "./records.js";
import { mountsUnder } from "./sandbox-ns.js";

export interface PodDiffRequest {
  home: string;
  namespace?: string;
  pod: string;
  /** Default: the pod's only container; required when it has several. */
  container?: string;
}

export interface PodDiff {
  containerId: string;
  container: string;
  changes: Change[];
}

/** The changes of the newest instance of the pod's container, as `docker diff` lists them. */
export async function podContainerDiff(req: PodDiffRequest): Promise<PodDiff> {
  const paths = runtimePaths(req.home, "crun");
  const namespace = req.namespace ?? "default";
  const sandboxes: SandboxRecord[] = [];
  for (const id of await readdir(paths.sandboxes).catch(() => [] as string[])) {
    const sb = await readRecord<SandboxRecord>(paths.sandbox(id), SANDBOX_FILE);
    if (sb?.metadata.name === req.pod && sb.metadata.namespace === namespace) sandboxes.push(sb);
  }
  if (sandboxes.length === 0) throw new NotFoundError(`pod "${req.pod}" not found in namespace "${namespace}" on this node`);
  const sbIds = new Set(sandboxes.map((s) => s.id));
  const containers: ContainerRecord[] = [];
  for (const id of await readdir(paths.containers).catch(() => [] as string[])) {
    const c = await readRecord<ContainerRecord>(paths.container(id), CONTAINER_FILE);
    if (c && sbIds.has(c.sandboxId)) containers.push(c);
  }
  const names = [...new Set(containers.map((c) => c.metadata.name))].sort();
  const name = req.container ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) {
    if (names.length === 0) throw new NotFoundError(`pod "${req.pod}" has no containers`);
    // kubectl's words for a pod of several containers
    throw new InvalidArgumentError(`a container name must be specified for pod ${req.pod}, choose one of: [${names.join(" ")}] with -c`);
  }
  const newest = containers.filter((c) => c.metadata.name === name).sort((a, b) => (BigInt(b.createdAt) > BigInt(a.createdAt) ? 1 : -1))[0];
  if (!newest) throw new NotFoundError(`container ${name} is not valid for pod ${req.pod}${names.length > 0 ? `, choose one of: [${names.join(" ")}]` : ""}`);
  if (newest.upper === undefined) return { containerId: newest.id, container: name, changes: [] };
  const merged = join(paths.container(newest.id), "rootfs");
  const mounted = (await mountsUnder(merged)).includes(merged);
  const changes = withoutMountPoints(await overlayChanges(newest.upper, newest.lowers, mounted ? merged : undefined), newest.mountPoints ?? []);
  return { containerId: newest.id, container: name, changes };
}

/** `docker diff`'s lines: `A /path`. */
export function formatChanges(changes: readonly Change[]): string {
  return changes.map((c) => `${c.kind} ${c.path}\n`).join("");
}
