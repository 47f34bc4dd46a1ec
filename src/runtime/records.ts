/** What the runtime persists per sandbox and per container (JSON, written atomically), so a restarted podyard finds them again. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fsutil/index.js";
import type { ImageSpec } from "../images/index.js";
import type { ContainerMetadata, DNSConfig, Mount, PodSandboxMetadata, PodSandboxState } from "./cri.js";

export interface SandboxRecord {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  /** Nanoseconds since the epoch, as a decimal string. */
  createdAt: string;
  hostname: string;
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler?: string;
  ip: string;
}

export type ContainerPhase = "created" | "running" | "exited";

export interface ContainerRecord {
  id: string;
  sandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** The image ID. */
  imageId: string;
  /** repo@digest when the image has a repo digest, else the image ID. */
  imageRef: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  logPath: string;
  phase: ContainerPhase;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  reason: string;
  message: string;
  snapshotKey: string;
  upper?: string;
  lowers: string[];
  env: string[];
  cwd: string;
  user: string;
  stopSignal: string;
  tty: boolean;
  stdin: boolean;
  /** conmon closes the container's stdin when the first attached client closes its stdin. */
  stdinOnce?: boolean;
  cgroupsPath: string;
  /** Destinations of the spec's mounts: left out of `containerDiff`. */
  mountPoints: string[];
}

export const SANDBOX_FILE = "sandbox.json";
export const CONTAINER_FILE = "container.json";

export async function readRecord<T>(dir: string, file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, file), "utf8")) as T;
  } catch {
    return undefined;
  }
}

export async function writeRecord(dir: string, file: string, record: object, opts: { sync?: boolean } = {}): Promise<void> {
  await writeFileAtomic(join(dir, file), `${JSON.stringify(record, null, 2)}\n`, opts);
}
