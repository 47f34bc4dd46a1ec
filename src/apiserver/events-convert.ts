/**
 * Events are stored once, as core/v1 Events, and served in two groups: core/v1 and
 * events.k8s.io/v1, whose fields are renamed (pkg/apis/events/v1 conversion).
 */
type Obj = Record<string, unknown>;

/** [events.k8s.io/v1 field, core/v1 field] */
const RENAMES: [string, string][] = [
  ["regarding", "involvedObject"], ["note", "message"], ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"], ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"], ["reportingController", "reportingComponent"],
];

function rename(obj: Obj, pairs: [string, string][], from: 0 | 1): Obj {
  const out: Obj = { ...obj };
  for (const pair of pairs) {
    const src = pair[from], dst = pair[from === 0 ? 1 : 0];
    if (src in out) {
      out[dst] = out[src];
      delete out[src];
    }
  }
  return out;
}

/** An events.k8s.io/v1 Event in its core/v1 stored form. */
export function eventsV1ToCore(obj: Obj): Obj {
  return { ...rename(obj, RENAMES, 0), apiVersion: "v1", kind: "Event" };
}

/** A stored core/v1 Event as events.k8s.io/v1 serves it. */
export function coreToEventsV1(obj: Obj): Obj {
  return { ...rename(obj, RENAMES, 1), apiVersion: "events.k8s.io/v1", kind: "Event" };
}
