/**
 * What configMap, secret, downwardAPI and projected volumes hold: the payload for the
 * AtomicWriter, built as the kubelet's plugins build it (`MakePayload`, `CollectData`).
 */
import type { ConfigMap, KeyToPath, Pod, Secret, Volume } from "../../api/index.js";
import type { Payload } from "./atomic-writer.js";
import { containerResourceValue, podFieldValue } from "./field-ref.js";
import type { VolumeSources } from "./types.js";
import { VolumePluginError } from "./types.js";

export const DEFAULT_MODE = 0o644;

type DownwardAPIFiles = NonNullable<Volume["downwardAPI"]>["items"];

export interface ProjectionContext {
  pod: Pod;
  sources: VolumeSources;
  nodeName: string;
  nodeIP?: string;
  podIP?: string;
}

function keyed(data: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number, optional: boolean, missingKey: (key: string) => string): Payload {
  const payload: Payload = new Map();
  if (!items || items.length === 0) {
    for (const [k, v] of data) payload.set(k, { data: v, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumePluginError(missingKey(item.key));
    }
    payload.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** A ConfigMap's `data` (UTF-8) and `binaryData` (base64) as bytes. */
export function configMapBytes(cm: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, "base64"));
  return out;
}

/** A Secret's `data` (base64) and `stringData` (plain, wins as the API server merges it) as bytes. */
export function secretBytes(s: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, "base64"));
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, Buffer.from(v, "utf8"));
  return out;
}

async function configMapPayload(ctx: ProjectionContext, src: { name?: string; items?: KeyToPath[]; optional?: boolean }, defaultMode: number): Promise<Payload> {
  const name = src.name ?? "";
  const cm = await ctx.sources.getConfigMap(ctx.pod.metadata.namespace ?? "default", name);
  if (!cm) {
    if (src.optional) return new Map();
    throw new VolumePluginError(`configmap ${JSON.stringify(name)} not found`);
  }
  return keyed(configMapBytes(cm), src.items, defaultMode, src.optional ?? false, (k) => `configmap references non-existent config key: ${k}`);
}

async function secretPayload(ctx: ProjectionContext, src: { name?: string; items?: KeyToPath[]; optional?: boolean }, defaultMode: number): Promise<Payload> {
  const name = src.name ?? "";
  const secret = await ctx.sources.getSecret(ctx.pod.metadata.namespace ?? "default", name);
  if (!secret) {
    if (src.optional) return new Map();
    throw new VolumePluginError(`secret ${JSON.stringify(name)} not found`);
  }
  return keyed(secretBytes(secret), src.items, defaultMode, src.optional ?? false, (k) => `references non-existent secret key: ${k}`);
}

function downwardPayload(ctx: ProjectionContext, items: DownwardAPIFiles, defaultMode: number): Payload {
  const payload: Payload = new Map();
  const containers = [...(ctx.pod.spec.initContainers ?? []), ...ctx.pod.spec.containers];
  for (const item of items ?? []) {
    let value: string;
    try {
      if (item.fieldRef) {
        value = podFieldValue(ctx.pod, item.fieldRef.fieldPath, { nodeName: ctx.nodeName, nodeIP: ctx.nodeIP, podIP: ctx.podIP });
      } else if (item.resourceFieldRef) {
        const ref = item.resourceFieldRef;
        const c = containers.find((x) => x.name === ref.containerName);
        if (!c) throw new Error(`failed to find container ${JSON.stringify(ref.containerName ?? "")} in pod ${ctx.pod.metadata.name ?? ""}`);
        value = containerResourceValue(c, ref.resource, ref.divisor);
      } else continue;
    } catch (err) {
      throw new VolumePluginError(`error while collecting downward API data: ${(err as Error).message}`, { cause: err });
    }
    payload.set(item.path, { data: Buffer.from(value, "utf8"), mode: item.mode ?? defaultMode });
  }
  return payload;
}

interface ProjectedSource {
  configMap?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIFiles };
  serviceAccountToken?: { path: string };
}

/** The files of a configMap, secret, downwardAPI or projected volume. */
export async function volumePayload(ctx: ProjectionContext, volume: Volume): Promise<Payload> {
  if (volume.configMap) return configMapPayload(ctx, volume.configMap, volume.configMap.defaultMode ?? DEFAULT_MODE);
  if (volume.secret) {
    const s = volume.secret;
    return secretPayload(ctx, { name: s.secretName, items: s.items, optional: s.optional }, s.defaultMode ?? DEFAULT_MODE);
  }
  if (volume.downwardAPI) return downwardPayload(ctx, volume.downwardAPI.items, volume.downwardAPI.defaultMode ?? DEFAULT_MODE);
  const payload: Payload = new Map();
  const defaultMode = volume.projected?.defaultMode ?? DEFAULT_MODE;
  for (const raw of (volume.projected?.sources ?? []) as ProjectedSource[]) {
    let part: Payload = new Map();
    if (raw.configMap) part = await configMapPayload(ctx, raw.configMap, defaultMode);
    else if (raw.secret) part = await secretPayload(ctx, raw.secret, defaultMode);
    else if (raw.downwardAPI) part = downwardPayload(ctx, raw.downwardAPI.items, defaultMode);
    else if (raw.serviceAccountToken) throw new VolumePluginError(`projected source serviceAccountToken is not supported by podyard`);
    for (const [k, v] of part) payload.set(k, v);
  }
  return payload;
}
