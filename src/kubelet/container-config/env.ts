/**
 * A container's environment as the kubelet builds it (`makeEnvironmentVariables`): envFrom
 * sources in order, then `env` entries, each either a literal expanded against what came before
 * or a `valueFrom` read as is.
 */
import type { Container, Pod } from "../../api/index.js";
import type { VolumeSources } from "../../runtime/index.js";
import { configMapBytes, containerResourceValue, podFieldValue, secretBytes } from "../../runtime/index.js";
import { CreateContainerConfigError } from "./errors.js";
import { expand, mappingFor } from "./expand.js";

export interface EnvContext {
  pod: Pod;
  container: Container;
  sources: VolumeSources;
  nodeName: string;
  nodeIP?: string;
  podIP?: string;
  podIPs?: string[];
  /** Service link variables (`<NAME>_SERVICE_HOST`, …) the kubelet computed, if any. */
  serviceEnv?: Map<string, string>;
}

/** The relaxed env var name rule: printable ASCII other than `=`, not empty. */
function validEnvName(name: string): boolean {
  return /^[\x20-\x3c\x3e-\x7e]+$/.test(name);
}

function fail(message: string, cause?: unknown): never {
  throw new CreateContainerConfigError(message, cause === undefined ? undefined : { cause });
}

/** The variables in the order first set (Go's map has none; this one is stable for tests and diffs). */
export async function makeEnvironmentVariables(ctx: EnvContext): Promise<Map<string, string>> {
  const { pod, container, sources } = ctx;
  const ns = pod.metadata.namespace ?? "default";
  const tmpEnv = new Map<string, string>();
  const serviceEnv = ctx.serviceEnv ?? new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    let data: Map<string, Buffer> | undefined;
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? "";
      const cm = await sources.getConfigMap(ns, name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        fail(`configmap ${JSON.stringify(name)} not found`);
      }
      // envFrom takes only `data`, not `binaryData`.
      data = configMapBytes({ ...cm, binaryData: undefined });
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? "";
      const secret = await sources.getSecret(ns, name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        fail(`secret ${JSON.stringify(name)} not found`);
      }
      data = secretBytes(secret);
    }
    for (const [k, v] of data ?? []) {
      const key = prefix + k;
      if (!validEnvName(key)) continue;
      tmpEnv.set(key, v.toString("utf8"));
    }
  }

  for (const env of container.env ?? []) {
    let value = env.value ?? "";
    if (value !== "") {
      value = expand(value, mappingFor(tmpEnv, serviceEnv));
    } else if (env.valueFrom) {
      const from = env.valueFrom;
      if (from.fieldRef) {
        try {
          value = podFieldValue(pod, from.fieldRef.fieldPath, { nodeName: ctx.nodeName, nodeIP: ctx.nodeIP, podIP: ctx.podIP, podIPs: ctx.podIPs });
        } catch (err) {
          fail((err as Error).message, err);
        }
      } else if (from.resourceFieldRef) {
        const ref = from.resourceFieldRef;
        const target = ref.containerName
          ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === ref.containerName)
          : container;
        if (!target) fail(`failed to find container ${JSON.stringify(ref.containerName)} in pod ${pod.metadata.name ?? ""}`);
        try {
          value = containerResourceValue(target, ref.resource, ref.divisor);
        } catch (err) {
          fail((err as Error).message, err);
        }
      } else if (from.configMapKeyRef) {
        const ref = from.configMapKeyRef;
        const name = ref.name ?? "";
        const cm = await sources.getConfigMap(ns, name);
        if (!cm) {
          if (ref.optional) continue;
          fail(`configmap ${JSON.stringify(name)} not found`);
        }
        const v = cm.data?.[ref.key];
        if (v === undefined) {
          if (ref.optional) continue;
          fail(`couldn't find key ${ref.key} in ConfigMap ${ns}/${name}`);
        }
        value = v;
      } else if (from.secretKeyRef) {
        const ref = from.secretKeyRef;
        const name = ref.name ?? "";
        const secret = await sources.getSecret(ns, name);
        if (!secret) {
          if (ref.optional) continue;
          fail(`secret ${JSON.stringify(name)} not found`);
        }
        const v = secretBytes(secret).get(ref.key);
        if (v === undefined) {
          if (ref.optional) continue;
          fail(`couldn't find key ${ref.key} in Secret ${ns}/${name}`);
        }
        value = v.toString("utf8");
      }
    }
    tmpEnv.set(env.name, value);
  }

  for (const [k, v] of serviceEnv) if (!tmpEnv.has(k)) tmpEnv.set(k, v);
  return tmpEnv;
}
