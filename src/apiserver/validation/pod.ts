/**
 * Pod validation (pkg/apis/core/validation/validation.go ValidatePodCreate, ValidatePodUpdate,
 * ValidatePodStatusUpdate), with kube-apiserver's field paths and messages, for the fields
 * podyard's users write.
 */
import type { Container, Pod, PodSpec, Probe, ResourceList, Toleration, Volume } from "../../api/index.js";
import {
  duplicate, forbidden, invalid, notFound, notSupported, required, type FieldError,
} from "./errors.js";
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from "./meta.js";
import {
  isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isRelaxedEnvVarName, isValidLabelValue, isValidPortName, isValidPortNum,
} from "./names.js";
import { quantityValue } from "./quantity.js";

type Errs = FieldError[];
const dnsLabel = (errs: Errs, path: string, v: string): void => { for (const m of isDNS1123Label(v)) errs.push(invalid(path, v, m)); };

const VOLUME_SOURCES = ["emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
  "glusterfs", "persistentVolumeClaim", "rbd", "quobyte", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile",
  "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO", "configMap", "csi",
  "ephemeral", "image"];
const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];
const FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive";

function validateMode(errs: Errs, path: string, mode: number | undefined): void {
  if (mode !== undefined && (mode < 0 || mode > 0o777)) errs.push(invalid(path, mode, FILE_MODE_MSG));
}

function noBacksteps(errs: Errs, path: string, p: string): void {
  if (p.split("/").includes("..")) errs.push(invalid(path, p, "must not contain '..'"));
}

function validateItems(errs: Errs, path: string, items: { key: string; path: string; mode?: number }[] | undefined): void {
  (items ?? []).forEach((it, i) => {
    const p = `${path}[${i}]`;
    if (!it.key) errs.push(required(`${p}.key`, ""));
    if (!it.path) errs.push(required(`${p}.path`, ""));
    else {
      if (it.path.startsWith("/")) errs.push(invalid(`${p}.path`, it.path, "must be a relative path"));
      noBacksteps(errs, `${p}.path`, it.path);
      if (it.path.startsWith("..")) errs.push(invalid(`${p}.path`, it.path, "must not start with '..'"));
    }
    validateMode(errs, `${p}.mode`, it.mode);
  });
}

function validateVolumeSource(v: Volume, path: string): Errs {
  const errs: Errs = [];
  const raw = v as unknown as Record<string, unknown>;
  const sources = VOLUME_SOURCES.filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (sources.length === 0) errs.push(required(path, "must specify a volume type"));
  for (const extra of sources.slice(1)) errs.push(forbidden(`${path}.${extra}`, "may not specify more than 1 volume type"));
  if (v.hostPath) {
    if (!v.hostPath.path) errs.push(required(`${path}.hostPath.path`, ""));
    else noBacksteps(errs, `${path}.hostPath.path`, v.hostPath.path);
    if (v.hostPath.type !== undefined && !HOST_PATH_TYPES.includes(v.hostPath.type)) errs.push(notSupported(`${path}.hostPath.type`, v.hostPath.type, HOST_PATH_TYPES));
  }
  if (v.configMap) {
    if (!v.configMap.name) errs.push(required(`${path}.configMap.name`, ""));
    validateMode(errs, `${path}.configMap.defaultMode`, v.configMap.defaultMode);
    validateItems(errs, `${path}.configMap.items`, v.configMap.items);
  }
  if (v.secret) {
    if (!v.secret.secretName) errs.push(required(`${path}.secret.secretName`, ""));
    validateMode(errs, `${path}.secret.defaultMode`, v.secret.defaultMode);
    validateItems(errs, `${path}.secret.items`, v.secret.items);
  }
  if (v.emptyDir?.medium !== undefined && v.emptyDir.medium !== "" && v.emptyDir.medium !== "Memory" && !String(v.emptyDir.medium).startsWith("HugePages")) {
    errs.push(notSupported(`${path}.emptyDir.medium`, v.emptyDir.medium, ["", "Memory", "HugePages"]));
  }
  if (v.emptyDir?.sizeLimit !== undefined) {
    const q = quantityValue(v.emptyDir.sizeLimit);
    if (q.error) errs.push(invalid(`${path}.emptyDir.sizeLimit`, String(v.emptyDir.sizeLimit), q.error));
    else if (q.value < 0) errs.push(invalid(`${path}.emptyDir.sizeLimit`, String(v.emptyDir.sizeLimit), "must be greater than or equal to 0"));
  }
  if (v.downwardAPI) validateMode(errs, `${path}.downwardAPI.defaultMode`, v.downwardAPI.defaultMode);
  if (v.projected) validateMode(errs, `${path}.projected.defaultMode`, v.projected.defaultMode);
  return errs;
}

/** The volumes, and the names of those without errors (mounts of the others are NotFound, as upstream). */
function validateVolumes(volumes: Volume[] | undefined): { errs: Errs; names: Set<string> } {
  const errs: Errs = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((v, i) => {
    const path = `spec.volumes[${i}]`;
    const el = validateVolumeSource(v, path);
    if (!v.name) el.push(required(`${path}.name`, ""));
    else dnsLabel(el, `${path}.name`, v.name);
    if (names.has(v.name)) el.push(duplicate(`${path}.name`, v.name));
    if (el.length === 0) names.add(v.name);
    else errs.push(...el);
  });
  return { errs, names };
}

function validatePorts(errs: Errs, path: string, c: Container): void {
  const names = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const ip = `${path}[${i}]`;
    if (p.name) {
      const msgs = isValidPortName(p.name);
      if (msgs.length > 0) for (const m of msgs) errs.push(invalid(`${ip}.name`, p.name, m));
      else if (names.has(p.name)) errs.push(duplicate(`${ip}.name`, p.name));
      else names.add(p.name);
    }
    if (!p.containerPort) errs.push(required(`${ip}.containerPort`, ""));
    else for (const m of isValidPortNum(p.containerPort)) errs.push(invalid(`${ip}.containerPort`, p.containerPort, m));
    if (p.hostPort) for (const m of isValidPortNum(p.hostPort)) errs.push(invalid(`${ip}.hostPort`, p.hostPort, m));
    if (!p.protocol) errs.push(required(`${ip}.protocol`, ""));
    else if (!["SCTP", "TCP", "UDP"].includes(p.protocol)) errs.push(notSupported(`${ip}.protocol`, p.protocol, ["SCTP", "TCP", "UDP"]));
  });
}

function validateEnv(errs: Errs, path: string, c: Container): void {
  (c.env ?? []).forEach((e, i) => {
    const ip = `${path}[${i}]`;
    if (!e.name) errs.push(required(`${ip}.name`, ""));
    for (const m of isRelaxedEnvVarName(e.name ?? "")) errs.push(invalid(`${ip}.name`, e.name ?? "", m));
    const from = e.valueFrom;
    if (from) {
      const n = [from.fieldRef, from.resourceFieldRef, from.configMapKeyRef, from.secretKeyRef].filter((x) => x !== undefined && x !== null).length;
      if (n === 0) errs.push(invalid(`${ip}.valueFrom`, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
      else if (n > 1) errs.push(invalid(`${ip}.valueFrom`, "", "may not have more than one field specified at a time"));
      if (e.value) errs.push(invalid(`${ip}.valueFrom`, "", "may not be specified when `value` is not empty"));
      for (const [name, sel] of [["configMapKeyRef", from.configMapKeyRef], ["secretKeyRef", from.secretKeyRef]] as const) {
        if (!sel) continue;
        if (!sel.name) errs.push(required(`${ip}.valueFrom.${name}.name`, ""));
        if (!sel.key) errs.push(required(`${ip}.valueFrom.${name}.key`, ""));
        else for (const m of isConfigMapKey(sel.key)) errs.push(invalid(`${ip}.valueFrom.${name}.key`, sel.key, m));
      }
      if (from.fieldRef && !from.fieldRef.fieldPath) errs.push(required(`${ip}.valueFrom.fieldRef.fieldPath`, ""));
    }
  });
}

function validateMounts(errs: Errs, path: string, c: Container, volumes: Set<string>): void {
  const seen = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const ip = `${path}[${i}]`;
    if (!m.name) errs.push(required(`${ip}.name`, ""));
    if (!volumes.has(m.name)) errs.push(notFound(`${ip}.name`, m.name ?? ""));
    if (!m.mountPath) errs.push(required(`${ip}.mountPath`, ""));
    if (seen.has(m.mountPath)) errs.push(invalid(`${ip}.mountPath`, m.mountPath, "must be unique"));
    seen.add(m.mountPath);
    // Upstream reports subPath problems on the list's path, not the item's.
    if (m.subPath) {
      if (m.subPath.startsWith("/")) errs.push(invalid(`${path}.subPath`, m.subPath, "must be a relative path"));
      noBacksteps(errs, `${path}.subPath`, m.subPath);
    }
    if (m.mountPropagation !== undefined && !["None", "HostToContainer", "Bidirectional"].includes(m.mountPropagation)) {
      errs.push(notSupported(`${path}.mountPropagation`, m.mountPropagation, ["Bidirectional", "HostToContainer", "None"]));
    }
  });
}

const STANDARD_CONTAINER_RESOURCES = ["cpu", "memory", "ephemeral-storage"];

function validateResources(errs: Errs, path: string, c: Container): void {
  const r = c.resources ?? {};
  const check = (list: ResourceList | undefined, base: string): Map<string, number> => {
    const values = new Map<string, number>();
    for (const [name, q] of Object.entries(list ?? {})) {
      const p = `${base}[${name}]`;
      if (!name.includes("/") && !STANDARD_CONTAINER_RESOURCES.includes(name) && !name.startsWith("hugepages-")) {
        errs.push(invalid(p, name, "must be a standard resource for containers"));
      } else if (name.includes("/")) {
        for (const m of isQualifiedName(name)) errs.push(invalid(p, name, m));
      }
      const v = quantityValue(q);
      if (v.error) { errs.push(invalid(p, String(q), v.error)); continue; }
      if (v.value < 0) errs.push(invalid(p, String(q), "must be greater than or equal to 0"));
      values.set(name, v.value);
    }
    return values;
  };
  const limits = check(r.limits, `${path}.limits`);
  const requests = check(r.requests, `${path}.requests`);
  for (const [name, req] of requests) {
    const lim = limits.get(name);
    const overcommit = !name.startsWith("hugepages-") && (STANDARD_CONTAINER_RESOURCES.includes(name) || !name.includes("/"));
    if (lim !== undefined) {
      if (!overcommit && req !== lim) errs.push(invalid(`${path}.requests`, String(r.requests?.[name]), `must be equal to ${name} limit of ${String(r.limits?.[name])}`));
      else if (req > lim) errs.push(invalid(`${path}.requests`, String(r.requests?.[name]), `must be less than or equal to ${name} limit of ${String(r.limits?.[name])}`));
    } else if (!overcommit) {
      errs.push(required(`${path}.limits`, "Limit must be set for non overcommitable resources"));
    }
  }
}

function validateProbe(errs: Errs, path: string, p: Probe | undefined, mustSucceedOnce: boolean): void {
  if (!p) return;
  const handlers = (["exec", "httpGet", "tcpSocket", "grpc"] as const).filter((h) => p[h] !== undefined && p[h] !== null);
  if (handlers.length === 0) errs.push(required(path, "must specify a handler type"));
  for (const extra of handlers.slice(1)) errs.push(forbidden(`${path}.${extra}`, "may not specify more than 1 handler type"));
  for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] as const) {
    const v = p[f];
    if (v !== undefined && v < 0) errs.push(invalid(`${path}.${f}`, v, "must be greater than or equal to 0"));
  }
  if (mustSucceedOnce && p.successThreshold !== undefined && p.successThreshold !== 1) errs.push(invalid(`${path}.successThreshold`, p.successThreshold, "must be 1"));
  if (p.httpGet?.scheme !== undefined && !["HTTP", "HTTPS"].includes(p.httpGet.scheme)) errs.push(notSupported(`${path}.httpGet.scheme`, p.httpGet.scheme, ["HTTP", "HTTPS"]));
}

function validateContainer(errs: Errs, path: string, c: Container, volumes: Set<string>, init: boolean): void {
  if (!c.name) errs.push(required(`${path}.name`, ""));
  else dnsLabel(errs, `${path}.name`, c.name);
  if (!c.image) errs.push(required(`${path}.image`, ""));
  else if (c.image.trim() !== c.image) errs.push(invalid(`${path}.image`, c.image, "must not have leading or trailing whitespace"));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`, "must be 'File' or 'FallbackToLogsOnError'"));
  else if (tmp !== "File" && tmp !== "FallbackToLogsOnError") errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ["File", "FallbackToLogsOnError"]));
  validatePorts(errs, `${path}.ports`, c);
  validateEnv(errs, `${path}.env`, c);
  validateMounts(errs, `${path}.volumeMounts`, c, volumes);
  const pp = c.imagePullPolicy;
  if (!pp) errs.push(required(`${path}.imagePullPolicy`, ""));
  else if (!["Always", "IfNotPresent", "Never"].includes(pp)) errs.push(notSupported(`${path}.imagePullPolicy`, pp, ["Always", "IfNotPresent", "Never"]));
  validateResources(errs, `${path}.resources`, c);
  const sidecar = init && c.restartPolicy === "Always";
  if (!init || sidecar) {
    validateProbe(errs, `${path}.livenessProbe`, c.livenessProbe, true);
    validateProbe(errs, `${path}.readinessProbe`, c.readinessProbe, false);
    validateProbe(errs, `${path}.startupProbe`, c.startupProbe, true);
  } else {
    if (c.lifecycle) errs.push(forbidden(`${path}.lifecycle`, "may not be set for init containers without restartPolicy=Always"));
    if (c.livenessProbe) errs.push(forbidden(`${path}.livenessProbe`, "may not be set for init containers without restartPolicy=Always"));
    if (c.readinessProbe) errs.push(forbidden(`${path}.readinessProbe`, "may not be set for init containers without restartPolicy=Always"));
    if (c.startupProbe) errs.push(forbidden(`${path}.startupProbe`, "may not be set for init containers without restartPolicy=Always"));
  }
  if (!init && c.restartPolicy !== undefined) errs.push(forbidden(`${path}.restartPolicy`, "may not be set for non-init containers"));
  if (init && c.restartPolicy !== undefined && c.restartPolicy !== "Always") errs.push(notSupported(`${path}.restartPolicy`, c.restartPolicy, ["Always"]));
}

function validateTolerations(errs: Errs, tolerations: Toleration[]): void {
  tolerations.forEach((t, i) => {
    const p = `spec.tolerations[${i}]`;
    if (t.key) for (const m of isQualifiedName(t.key)) errs.push(invalid(`${p}.key`, t.key, m));
    if (!t.key && t.operator !== "Exists") errs.push(invalid(`${p}.operator`, t.operator ?? "", "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== "NoExecute") {
      errs.push(invalid(`${p}.effect`, t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (!t.operator || t.operator === "Equal") {
      for (const m of isValidLabelValue(t.value ?? "")) errs.push(invalid(`${p}.operator`, t.value ?? "", m));
    } else if (t.operator === "Exists") {
      if (t.value) errs.push(invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(`${p}.operator`, t.operator, ["Equal", "Exists"]));
    }
    if (t.effect && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(t.effect)) {
      errs.push(notSupported(`${p}.effect`, t.effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]));
    }
  });
}

export function validatePodSpec(spec: PodSpec | undefined): Errs {
  const errs: Errs = [];
  const s = spec ?? ({} as PodSpec);
  const { errs: volErrs, names: volumes } = validateVolumes(s.volumes);
  errs.push(...volErrs);
  const containers = s.containers ?? [];
  if (containers.length === 0) errs.push(required("spec.containers", ""));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    validateContainer(errs, `spec.containers[${i}]`, c, volumes, false);
    if (names.has(c.name)) errs.push(duplicate(`spec.containers[${i}].name`, c.name));
    else names.add(c.name);
  });
  (s.initContainers ?? []).forEach((c, i) => {
    validateContainer(errs, `spec.initContainers[${i}]`, c, volumes, true);
    if (names.has(c.name)) errs.push(duplicate(`spec.initContainers[${i}].name`, c.name));
    else names.add(c.name);
  });
  const rp = s.restartPolicy;
  if (!rp) errs.push(required("spec.restartPolicy", ""));
  else if (!["Always", "OnFailure", "Never"].includes(rp)) errs.push(notSupported("spec.restartPolicy", rp, ["Always", "OnFailure", "Never"]));
  const dp = s.dnsPolicy;
  if (!dp) errs.push(required("spec.dnsPolicy", ""));
  else if (!["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].includes(dp)) {
    errs.push(notSupported("spec.dnsPolicy", dp, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]));
  }
  errs.push(...validateLabels(s.nodeSelector, "spec.nodeSelector"));
  if (s.serviceAccountName) for (const m of isDNS1123Subdomain(s.serviceAccountName)) errs.push(invalid("spec.serviceAccountName", s.serviceAccountName, m));
  if (s.nodeName) for (const m of isDNS1123Subdomain(s.nodeName)) errs.push(invalid("spec.nodeName", s.nodeName, m));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > 2147483647)) {
    errs.push(invalid("spec.activeDeadlineSeconds", s.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive"));
  }
  if (s.hostname) dnsLabel(errs, "spec.hostname", s.hostname);
  if (s.subdomain) dnsLabel(errs, "spec.subdomain", s.subdomain);
  if (s.tolerations?.length) validateTolerations(errs, s.tolerations);
  return errs;
}

export function validatePodCreate(pod: Pod): Errs {
  return [...validateObjectMeta(pod.metadata, true, isDNS1123Subdomain), ...validatePodSpec(pod.spec)];
}

const UPDATE_FORBIDDEN = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
  + "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
  + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

const goField = (k: string): string => k.charAt(0).toUpperCase() + k.slice(1);

/**
 * A `-`/`+` listing of the spec fields that differ, down to the changed leaves
 * (`Containers[0].ImagePullPolicy`), in the spirit of upstream's cmp.Diff output.
 */
function specDiff(old: PodSpec, next: PodSpec): string {
  const lines = ["  core.PodSpec{"];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (canonical(a) === canonical(b)) return;
    const bothObjects = a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b);
    if (bothObjects && (!Array.isArray(a) || (a as unknown[]).length === (b as unknown[]).length)) {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])]) {
        walk(ao[k], bo[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${goField(k)}` : goField(k));
      }
      return;
    }
    if (a !== undefined) lines.push(`- \t${path}: ${canonical(a)},`);
    if (b !== undefined) lines.push(`+ \t${path}: ${canonical(b)},`);
  };
  walk(old, next, "");
  lines.push("  }");
  return `${lines.join("\n")}\n`;
}

function tolerationsAdded(old: Toleration[], next: Toleration[]): boolean {
  // Existing tolerations must stay (only tolerationSeconds may change); new ones may be added.
  return old.every((o) => next.some((n) => canonical({ ...n, tolerationSeconds: undefined }) === canonical({ ...o, tolerationSeconds: undefined })));
}

export function validatePodUpdate(next: Pod, old: Pod): Errs {
  const errs = [...validateObjectMetaUpdate(next.metadata, old.metadata), ...validatePodCreate(next)];
  const ns = next.spec ?? ({ containers: [] } as PodSpec);
  const os = old.spec ?? ({ containers: [] } as PodSpec);
  if ((ns.containers ?? []).length !== (os.containers ?? []).length) {
    errs.push(forbidden("spec.containers", "pod updates may not add or remove containers"));
    return errs;
  }
  if ((ns.initContainers ?? []).length !== (os.initContainers ?? []).length) {
    errs.push(forbidden("spec.initContainers", "pod updates may not add or remove containers"));
    return errs;
  }
  const munged: PodSpec = structuredClone(ns);
  munged.containers = munged.containers.map((c, i) => ({ ...c, image: os.containers[i]?.image }));
  if (munged.initContainers) munged.initContainers = munged.initContainers.map((c, i) => ({ ...c, image: os.initContainers?.[i]?.image }));
  munged.activeDeadlineSeconds = os.activeDeadlineSeconds;
  if (os.activeDeadlineSeconds !== undefined && os.activeDeadlineSeconds !== null) {
    if (ns.activeDeadlineSeconds === undefined || ns.activeDeadlineSeconds === null) {
      errs.push(invalid("spec.activeDeadlineSeconds", null, "must not update from a positive integer to nil value"));
    } else if (ns.activeDeadlineSeconds > os.activeDeadlineSeconds) {
      errs.push(invalid("spec.activeDeadlineSeconds", ns.activeDeadlineSeconds, "must be less than or equal to previous value"));
    }
  }
  if (!tolerationsAdded(os.tolerations ?? [], ns.tolerations ?? [])) {
    errs.push(forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"));
  }
  munged.tolerations = os.tolerations;
  if ((os.terminationGracePeriodSeconds ?? 0) < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = os.terminationGracePeriodSeconds;
  const clean = (s: PodSpec): PodSpec => JSON.parse(JSON.stringify(s)) as PodSpec;
  if (canonical(clean(munged)) !== canonical(clean(os))) errs.push(forbidden("spec", `${UPDATE_FORBIDDEN}\n${specDiff(clean(os), clean(munged))}`));
  return errs;
}

/** The status subresource: only metadata rules and the status's own shape. */
export function validatePodStatusUpdate(next: Pod, old: Pod): Errs {
  const errs = validateObjectMetaUpdate(next.metadata, old.metadata);
  const phase = next.status?.phase;
  if (phase !== undefined && !["Pending", "Running", "Succeeded", "Failed", "Unknown"].includes(phase)) {
    errs.push(notSupported("status.phase", phase, ["Pending", "Running", "Succeeded", "Failed", "Unknown"]));
  }
  const oldPhase = old.status?.phase;
  if ((oldPhase === "Succeeded" || oldPhase === "Failed") && phase !== oldPhase) {
    errs.push(forbidden("status.phase", `cannot transition from ${oldPhase} to ${phase ?? ""}`));
  }
  (next.status?.conditions ?? []).forEach((c, i) => {
    if (!c.type) errs.push(required(`status.conditions[${i}].type`, ""));
  });
  if (next.spec?.nodeName !== old.spec?.nodeName && old.spec?.nodeName) errs.push(forbidden("spec.nodeName", "pod updates may not change fields other than `status`"));
  return errs;
}
