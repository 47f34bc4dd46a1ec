/**
 * Rows for the kinds other than pods (printers.go printNode, printEvent, printNamespace,
 * printSecret, printConfigMap, printServiceAccount, printLease) and the default Name/Created At
 * table every other kind gets (apiserver registry/rest/table.go).
 */
import { formatTime, type Event, type KubeObject, type Lease, type Namespace, type Node, type Secret, type ServiceAccount, type TableColumnDefinition } from "../../api/index.js";
import { ageSince } from "./duration.js";

const col = (name: string, description: string, priority = 0, format = "", type = "string"): TableColumnDefinition =>
  ({ name, type, format, description, priority });
const nameCol = col("Name", "Name of the object, unique within its namespace (or the cluster).", 0, "name");
const ageCol = col("Age", "Time since the object was created.");

export const nodeColumns = [
  nameCol,
  col("Status", "The node's Ready condition, and whether scheduling is disabled."),
  col("Roles", "The roles from the node's node-role.kubernetes.io labels."),
  ageCol,
  col("Version", "The kubelet version the node reports."),
  col("Internal-IP", "The node's first InternalIP address.", 1),
  col("External-IP", "The node's first ExternalIP address.", 1),
  col("OS-Image", "The operating system image the node reports.", 1),
  col("Kernel-Version", "The kernel version the node reports.", 1),
  col("Container-Runtime", "The container runtime and its version.", 1),
];

function nodeRoles(labels: Record<string, string>): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role) roles.add(role);
    } else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return [...roles].sort();
}

export function printNode(node: Node, now: number): unknown[] {
  const status: string[] = [];
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
  if (status.length === 0) status.push("Unknown");
  if (node.spec?.unschedulable) status.push("SchedulingDisabled");
  const roles = nodeRoles(node.metadata.labels ?? {}).join(",") || "<none>";
  const info = node.status?.nodeInfo;
  const address = (type: string): string => node.status?.addresses?.find((a) => a.type === type)?.address ?? "<none>";
  return [
    node.metadata.name ?? "", status.join(","), roles, ageSince(node.metadata.creationTimestamp, now), info?.kubeletVersion ?? "",
    address("InternalIP"), address("ExternalIP"), info?.osImage || "<unknown>", info?.kernelVersion || "<unknown>",
    info?.containerRuntimeVersion || "<unknown>",
  ];
}

export const eventColumns = [
  col("Last Seen", "Time since the event was last observed."),
  col("Type", "Normal or Warning."),
  col("Reason", "Why the event happened, in one CamelCase word."),
  col("Object", "The object the event is about."),
  col("Subobject", "The part of the object the event is about (a container).", 1),
  col("Source", "The component that reported the event.", 1),
  col("Message", "What happened, for a human."),
  col("First Seen", "Time since the event was first observed.", 1),
  col("Count", "How often the event happened.", 1),
  col("Name", "Name of the event object.", 1, "name"),
];

/** events.k8s.io/v1 events name their fields differently; the printer reads both shapes. */
interface EventsV1 extends KubeObject {
  regarding?: Event["involvedObject"];
  note?: string;
  deprecatedSource?: Event["source"];
  deprecatedFirstTimestamp?: string;
  deprecatedLastTimestamp?: string;
  deprecatedCount?: number;
  reportingController?: string;
  reportingInstance?: string;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  type?: string;
  reason?: string;
}

export function printEvent(obj: Event | EventsV1, now: number): unknown[] {
  const v1 = obj as EventsV1;
  const core = obj as Event;
  const involved = core.involvedObject ?? v1.regarding ?? {};
  const source = core.source ?? v1.deprecatedSource ?? {};
  const firstTs = core.firstTimestamp ?? v1.deprecatedFirstTimestamp;
  const lastTs = core.lastTimestamp ?? v1.deprecatedLastTimestamp;
  const first = firstTs ? ageSince(firstTs, now) : ageSince(obj.eventTime, now);
  let last = lastTs ? ageSince(lastTs, now) : first;
  let count = core.count ?? v1.deprecatedCount ?? 0;
  if (obj.series) {
    last = ageSince(obj.series.lastObservedTime, now);
    count = obj.series.count ?? 0;
  } else if (count === 0) count = 1;
  const kind = (involved.kind ?? "").toLowerCase();
  const target = involved.name ? `${kind}/${involved.name}` : kind;
  const component = source.component || (core.reportingComponent ?? v1.reportingController ?? "");
  const instance = source.host || (core.reportingInstance ?? "");
  const sourceText = instance ? `${component}, ${instance}` : component;
  const message = (core.message ?? v1.note ?? "").trim();
  return [last, obj.type ?? "", obj.reason ?? "", target, involved.fieldPath ?? "", sourceText, message, first, count, obj.metadata.name ?? ""];
}

export const namespaceColumns = [nameCol, col("Status", "The namespace's phase: Active or Terminating."), ageCol];
export const printNamespace = (ns: Namespace, now: number): unknown[] =>
  [ns.metadata.name ?? "", ns.status?.phase ?? "", ageSince(ns.metadata.creationTimestamp, now)];

export const secretColumns = [nameCol, col("Type", "The type of the secret."), col("Data", "How many keys the secret holds."), ageCol];
export const printSecret = (s: Secret, now: number): unknown[] =>
  [s.metadata.name ?? "", s.type ?? "", Object.keys(s.data ?? {}).length, ageSince(s.metadata.creationTimestamp, now)];

export const configMapColumns = [nameCol, col("Data", "How many keys the config map holds."), ageCol];
export const printConfigMap = (c: KubeObject & { data?: object; binaryData?: object }, now: number): unknown[] =>
  [c.metadata.name ?? "", Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, ageSince(c.metadata.creationTimestamp, now)];

export const serviceAccountColumns = [nameCol, col("Secrets", "How many secrets the service account lists."), ageCol];
export const printServiceAccount = (sa: ServiceAccount, now: number): unknown[] =>
  [sa.metadata.name ?? "", (sa.secrets ?? []).length, ageSince(sa.metadata.creationTimestamp, now)];

export const leaseColumns = [nameCol, col("Holder", "Who holds the lease."), ageCol];
export const printLease = (l: Lease, now: number): unknown[] =>
  [l.metadata.name ?? "", l.spec?.holderIdentity ?? "", ageSince(l.metadata.creationTimestamp, now)];

export const defaultColumns = [nameCol, col("Created At", "When the object was created.", 0, "", "date")];
export function printDefault(obj: KubeObject): unknown[] {
  const ts = obj.metadata.creationTimestamp;
  const t = ts ? Date.parse(ts) : NaN;
  return [obj.metadata.name ?? "", Number.isNaN(t) ? null : formatTime(t)];
}
