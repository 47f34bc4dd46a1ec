/**
 * The kubeconfig `podyard up` writes to `$PODYARD_HOME/kubeconfig` (cluster, user and
 * context all named `podyard`: the CA's data, the server, the bearer token), and its merge
 * into `~/.kube/config` for --write-kubeconfig (other clusters, users and contexts kept;
 * the podyard entries replaced; current-context set to podyard, as kind and k3d do).
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { mkdir } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { errnoCode, InvalidArgumentError } from "../../errdefs/index.js";
import { writeFileAtomic } from "../../fsutil/index.js";

export const CONTEXT = "podyard";

export interface KubeconfigEntries {
  /** `https://127.0.0.1:6443` */
  server: string;
  ca: Buffer;
  token: string;
  /** the context's namespace; default `default` */
  namespace?: string;
}

interface Named {
  name: string;
  [k: string]: unknown;
}

interface KubeconfigDoc {
  apiVersion: string;
  kind: string;
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  "current-context"?: string;
  preferences?: object;
  [k: string]: unknown;
}

function entries(e: KubeconfigEntries): Pick<KubeconfigDoc, "clusters" | "users" | "contexts"> {
  return {
    clusters: [{ name: CONTEXT, cluster: { server: e.server, "certificate-authority-data": e.ca.toString("base64") } }],
    users: [{ name: CONTEXT, user: { token: e.token } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT, namespace: e.namespace ?? "default" } }],
  };
}

/** The kubeconfig text for `e`, its current context podyard. */
export function kubeconfigText(e: KubeconfigEntries): string {
  const doc: KubeconfigDoc = { apiVersion: "v1", kind: "Config", preferences: {}, ...entries(e), "current-context": CONTEXT };
  return stringify(doc);
}

export async function writeKubeconfig(path: string, e: KubeconfigEntries): Promise<void> {
  await writeFileAtomic(path, kubeconfigText(e), { mode: 0o600, mkdirMode: 0o700 });
}

function list(v: unknown, field: string, path: string): Named[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidArgumentError(`kubeconfig ${path}: ${field} is not a list`);
  return v as Named[];
}

/** `existing` (a kubeconfig's text, or undefined) with the podyard entries put in. */
export function mergeKubeconfigText(existing: string | undefined, e: KubeconfigEntries, path = "kubeconfig"): string {
  let doc: Partial<KubeconfigDoc> = {};
  if (existing !== undefined && existing.trim() !== "") {
    const parsed: unknown = parse(existing);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`kubeconfig ${path}: not a YAML mapping`);
    doc = parsed as Partial<KubeconfigDoc>;
  }
  const ours = entries(e);
  const replace = (have: Named[], mine: Named[]): Named[] => [...have.filter((x) => x.name !== CONTEXT), ...mine];
  const merged: KubeconfigDoc = {
    ...doc,
    apiVersion: doc.apiVersion ?? "v1",
    kind: doc.kind ?? "Config",
    clusters: replace(list(doc.clusters, "clusters", path), ours.clusters),
    users: replace(list(doc.users, "users", path), ours.users),
    contexts: replace(list(doc.contexts, "contexts", path), ours.contexts),
    "current-context": CONTEXT,
  };
  return stringify(merged);
}

/** Merges the podyard entries into the kubeconfig at `path` (made when missing, mode 0600). */
export async function mergeKubeconfig(path: string, e: KubeconfigEntries): Promise<void> {
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, mergeKubeconfigText(text, e, path), { mode: 0o600 });
}

/** The current context's cluster in a kubeconfig: its server and CA (data or file, read). */
export async function currentCluster(path: string): Promise<{ server: string; ca?: Buffer }> {
  const doc = parse(await readFile(path, "utf8")) as Partial<KubeconfigDoc> | null;
  const contexts = list(doc?.contexts, "contexts", path);
  const ctxName = doc?.["current-context"] ?? contexts[0]?.name;
  const ctx = contexts.find((c) => c.name === ctxName)?.context as { cluster?: string } | undefined;
  const clusters = list(doc?.clusters, "clusters", path);
  const cluster = (clusters.find((c) => c.name === ctx?.cluster) ?? clusters[0])?.cluster as
    | { server?: string; "certificate-authority-data"?: string; "certificate-authority"?: string }
    | undefined;
  if (!cluster?.server) throw new InvalidArgumentError(`kubeconfig ${path}: the current context names no cluster with a server`);
  const data = cluster["certificate-authority-data"];
  const file = cluster["certificate-authority"];
  const ca = data !== undefined ? Buffer.from(data, "base64") : file !== undefined ? await readFile(file) : undefined;
  return { server: cluster.server, ...(ca ? { ca } : {}) };
}
