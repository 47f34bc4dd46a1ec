/**
 * Label and field selectors as the list and watch query parameters give them
 * (apimachinery/pkg/labels and pkg/fields): parsed once, then matched per object.
 */
import { badRequest } from "./status.js";

export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

export type Selector = Requirement[];

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0, cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) { parts.push(cur); cur = ""; continue; }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/** Parses a label selector (`app=web,tier!=db,env in (a,b),!legacy,owner`). */
export function parseLabelSelector(text: string | null): Selector {
  if (!text) return [];
  return splitTop(text).map((part) => {
    let m = /^!\s*([\w./-]+)$/.exec(part);
    if (m) return { key: m[1] ?? "", op: "!", values: [] };
    m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { key: m[1] ?? "", op: m[2] as "in" | "notin", values: (m[3] ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "") };
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (m) return { key: m[1] ?? "", op: m[2] === "!=" ? "!=" : "=", values: [m[3] ?? ""] };
    m = /^([\w./-]+)$/.exec(part);
    if (m) return { key: m[1] ?? "", op: "exists", values: [] };
    throw badRequest(`unable to parse requirement: found '${part}', expected: key, !key, key=value, key!=value, key in (values) or key notin (values)`);
  });
}

/** Parses a field selector (`metadata.name=web,status.phase!=Running`); only = == != exist. */
export function parseFieldSelector(text: string | null): Selector {
  if (!text) return [];
  return splitTop(text).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    return { key: m[1] ?? "", op: m[2] === "!=" ? "!=" : "=", values: [m[3] ?? ""] };
  });
}

/** Whether `fields` (key → value; a missing key reads as absent) satisfy every requirement. */
export function matches(sel: Selector, fields: Record<string, string | undefined>): boolean {
  for (const r of sel) {
    const v = fields[r.key];
    switch (r.op) {
      case "=": if (v !== r.values[0]) return false; break;
      case "!=": if (v === r.values[0]) return false; break;
      case "in": if (v === undefined || !r.values.includes(v)) return false; break;
      case "notin": if (v !== undefined && r.values.includes(v)) return false; break;
      case "exists": if (v === undefined) return false; break;
      case "!": if (v !== undefined) return false; break;
    }
  }
  return true;
}

/** A field selector value reads missing fields as the empty string, as pkg/fields does. */
export function matchesFields(sel: Selector, fields: Record<string, string>): boolean {
  return sel.every((r) => (r.op === "!=" ? (fields[r.key] ?? "") !== r.values[0] : (fields[r.key] ?? "") === r.values[0]));
}

function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

/** The selectable fields of one object, per resource (each registry's GetAttrs / ToSelectableFields). */
export function selectableFields(resource: string, group: string, obj: Record<string, unknown>): Record<string, string> {
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const status = (obj.status ?? {}) as Record<string, unknown>;
  const f: Record<string, string> = { "metadata.name": str(meta.name), "metadata.namespace": str(meta.namespace) };
  switch (resource) {
    case "pods":
      Object.assign(f, {
        "spec.nodeName": str(spec.nodeName), "spec.restartPolicy": str(spec.restartPolicy), "spec.schedulerName": str(spec.schedulerName),
        "spec.serviceAccountName": str(spec.serviceAccountName), "spec.hostNetwork": String(spec.hostNetwork === true),
        "status.phase": str(status.phase), "status.podIP": str(status.podIP), "status.nominatedNodeName": str(status.nominatedNodeName),
      });
      break;
    case "events": {
      if (group === "events.k8s.io") {
        const r = (obj.regarding ?? {}) as Record<string, unknown>;
        Object.assign(f, {
          "regarding.kind": str(r.kind), "regarding.namespace": str(r.namespace), "regarding.name": str(r.name), "regarding.uid": str(r.uid),
          reason: str(obj.reason), type: str(obj.type), reportingController: str(obj.reportingController),
        });
      } else {
        const io = (obj.involvedObject ?? {}) as Record<string, unknown>;
        const src = (obj.source ?? {}) as Record<string, unknown>;
        Object.assign(f, {
          "involvedObject.kind": str(io.kind), "involvedObject.namespace": str(io.namespace), "involvedObject.name": str(io.name),
          "involvedObject.uid": str(io.uid), "involvedObject.apiVersion": str(io.apiVersion), "involvedObject.resourceVersion": str(io.resourceVersion),
          "involvedObject.fieldPath": str(io.fieldPath), reason: str(obj.reason), reportingComponent: str(obj.reportingComponent),
          source: str(src.component), type: str(obj.type),
        });
      }
      break;
    }
    case "nodes": f["spec.unschedulable"] = String(spec.unschedulable === true); break;
    case "namespaces": f["status.phase"] = str(status.phase); break;
    case "secrets": f.type = str(obj.type); break;
  }
  return f;
}
