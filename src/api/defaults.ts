/**
 * What kube-apiserver fills in before it validates and stores an object: the core/v1
 * `SetDefaults_*` functions (pkg/apis/core/v1/defaults.go), plus what its default admission
 * plugins add to pods (ServiceAccount, Priority, DefaultTolerationSeconds) and the pod QoS class
 * the pod strategy computes. All of it in place, and only where the field is unset.
 */
import type {
  Container, ContainerPort, HTTPGetAction, Pod, PodSpec, Probe, ProbeHandler, ResourceList, Toleration, Volume,
} from "./core-v1.js";
import { defaultImagePullPolicy } from "./defaults-image.js";
import type { KubeObject } from "./meta.js";

const DEFAULT_MODE = 0o644; // 420, as configMap/secret/downwardAPI/projected volumes default

function setDefaultsHTTPGet(h: HTTPGetAction | undefined): void {
  if (!h) return;
  if (h.path === undefined || h.path === "") h.path = "/";
  if (!h.scheme) h.scheme = "HTTP";
}

function setDefaultsHandler(h: ProbeHandler | undefined): void {
  if (!h) return;
  setDefaultsHTTPGet(h.httpGet);
  if (h.grpc && h.grpc.service === undefined) h.grpc.service = "";
}

function setDefaultsProbe(p: Probe | undefined): void {
  if (!p) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  setDefaultsHandler(p);
}

function setDefaultsContainer(c: Container, hostNetwork: boolean): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultImagePullPolicy(c.image ?? "");
  if (!c.terminationMessagePath) c.terminationMessagePath = "/dev/termination-log";
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = "File";
  // The pod strategy copies limits into unset requests (SetDefaults_Pod).
  if (!c.resources) c.resources = {};
  if (c.resources.limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) if (!(k in c.resources.requests)) c.resources.requests[k] = v;
  }
  for (const p of c.ports ?? []) setDefaultsPort(p, hostNetwork);
  setDefaultsProbe(c.livenessProbe);
  setDefaultsProbe(c.readinessProbe);
  setDefaultsProbe(c.startupProbe);
  setDefaultsHandler(c.lifecycle?.postStart);
  setDefaultsHandler(c.lifecycle?.preStop);
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (from?.fieldRef && !from.fieldRef.apiVersion) from.fieldRef.apiVersion = "v1";
    if (from?.resourceFieldRef && from.resourceFieldRef.divisor === undefined) from.resourceFieldRef.divisor = "0";
  }
}

function setDefaultsPort(p: ContainerPort, hostNetwork: boolean): void {
  if (!p.protocol) p.protocol = "TCP";
  if (hostNetwork && !p.hostPort) p.hostPort = p.containerPort;
}

const VOLUME_SOURCES = [
  "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
  "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
  "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos",
  "csi", "ephemeral", "image",
];

function setDefaultsVolume(v: Volume): void {
  const raw = v as unknown as Record<string, unknown>;
  if (!VOLUME_SOURCES.some((k) => raw[k] !== undefined && raw[k] !== null)) v.emptyDir = {};
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = "";
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = DEFAULT_MODE;
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = DEFAULT_MODE;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = DEFAULT_MODE;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = "v1";
  }
  if (v.projected && v.projected.defaultMode === undefined) v.projected.defaultMode = DEFAULT_MODE;
}

/** The DefaultTolerationSeconds admission plugin: tolerate not-ready/unreachable nodes for 300 s. */
function addDefaultTolerations(spec: PodSpec): void {
  const tolerations = spec.tolerations ?? [];
  const tolerates = (key: string): boolean =>
    tolerations.some((t) => (t.key === key || !t.key) && (t.effect === "NoExecute" || !t.effect));
  const add: Toleration[] = [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    if (!tolerates(key)) add.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  if (add.length > 0) spec.tolerations = [...tolerations, ...add];
}

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const MULTIPLIER: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** A quantity's value, NaN when it is not one (validation reports those). */
function quantityValue(q: string | number): number {
  if (typeof q === "number") return q;
  const m = QUANTITY.exec(q.trim());
  if (!m) return NaN;
  const num = Number(m[1]);
  const suffix = m[2] ?? "";
  if (suffix === "") return num;
  if (suffix[0] === "e" || suffix[0] === "E") return num * 10 ** Number(suffix.slice(1));
  return num * (MULTIPLIER[suffix] ?? NaN);
}

/** The pod's QoS class (pkg/apis/core/helper/qos ComputePodQOS), over cpu and memory only. */
export function podQOSClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const sum = (into: Map<string, number>, list: ResourceList | undefined, found?: Set<string>): void => {
    for (const [name, q] of Object.entries(list ?? {})) {
      if (name !== "cpu" && name !== "memory") continue;
      const v = quantityValue(q);
      if (!(v > 0)) continue;
      found?.add(name);
      into.set(name, (into.get(name) ?? 0) + v);
    }
  };
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    sum(requests, c.resources?.requests);
    const found = new Set<string>();
    sum(limits, c.resources?.limits, found);
    if (!found.has("cpu") || !found.has("memory")) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim === undefined || Math.abs(lim - req) > 1e-12 * Math.max(1, lim)) { guaranteed = false; break; }
    }
  }
  return guaranteed && requests.size === limits.size ? "Guaranteed" : "Burstable";
}

/** SetDefaults_Pod and SetDefaults_PodSpec with everything they reach, plus the admission defaults. */
export function setDefaultsPod(pod: Pod): void {
  pod.spec ??= { containers: [] };
  const spec = pod.spec;
  if (!spec.dnsPolicy) spec.dnsPolicy = "ClusterFirst";
  if (!spec.restartPolicy) spec.restartPolicy = "Always";
  if (!spec.securityContext) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = "default-scheduler";
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  // serviceAccount is the deprecated spelling: each fills the other, and the ServiceAccount
  // admission plugin names `default` when neither is set.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (!spec.serviceAccountName) spec.serviceAccountName = "default";
  if (!spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  // The Priority admission plugin, with no PriorityClass in the cluster.
  const raw = spec as PodSpec & { preemptionPolicy?: string };
  if (spec.priority === undefined || spec.priority === null) spec.priority = 0;
  if (!raw.preemptionPolicy) raw.preemptionPolicy = "PreemptLowerPriority";
  const hostNetwork = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) setDefaultsContainer(c, hostNetwork);
  for (const c of spec.containers ?? []) setDefaultsContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) setDefaultsVolume(v);
  addDefaultTolerations(spec);
  pod.status ??= {};
  if (!pod.status.phase) pod.status.phase = "Pending";
  if (!pod.status.qosClass) pod.status.qosClass = podQOSClass(pod);
}

/**
 * What the pod strategy's PrepareForCreate does besides defaulting: a new pod's status is
 * only `{phase: Pending, qosClass}`, whatever the client sent.
 */
export function prepareForCreate(resource: string, obj: KubeObject): void {
  if (resource !== "pods") return;
  const pod = obj as Pod;
  pod.status = { phase: "Pending", qosClass: podQOSClass(pod) };
}

type Obj = KubeObject & Record<string, unknown>;

/** The defaults of `resource` (plural, lower case), in place. Kinds without defaults are left alone. */
export function setDefaultsObject(resource: string, obj: KubeObject): void {
  const o = obj as Obj;
  switch (resource) {
    case "pods":
      setDefaultsPod(obj as Pod);
      return;
    case "secrets": {
      if (!o.type) o.type = "Opaque";
      // Conversion from v1 folds stringData into data (its values win) and never stores it.
      const stringData = o.stringData as Record<string, string> | undefined;
      if (stringData && typeof stringData === "object") {
        const data = { ...((o.data as Record<string, string> | undefined) ?? {}) };
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
        o.data = data;
      }
      delete o.stringData;
      return;
    }
    case "namespaces": {
      // SetDefaults_Namespace labels it with its own name; the namespace strategy adds the
      // `kubernetes` finalizer the namespace controller removes once the namespace is empty.
      if (obj.metadata.name) obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name };
      const spec = (o.spec ??= {}) as { finalizers?: string[] };
      spec.finalizers ??= ["kubernetes"];
      const status = (o.status ??= {}) as { phase?: string };
      if (!status.phase) status.phase = "Active";
      return;
    }
    case "nodes": {
      const status = (o.status ??= {}) as { capacity?: ResourceList; allocatable?: ResourceList };
      if (status.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
      return;
    }
    default:
      return;
  }
}
