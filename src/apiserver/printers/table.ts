/**
 * Server-side Tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): kubectl 1.32
 * has no client-side columns, so `get` shows what these rows say. The server always fills the
 * wide cells; kubectl hides the priority-1 columns unless `-o wide`.
 */
import type { Event, KubeObject, Lease, Namespace, Node, Pod, Secret, ServiceAccount, Table, TableColumnDefinition, TableRow } from "../../api/index.js";
import {
  configMapColumns, defaultColumns, eventColumns, leaseColumns, namespaceColumns, nodeColumns, printConfigMap, printDefault,
  printEvent, printLease, printNamespace, printNode, printSecret, printServiceAccount, secretColumns, serviceAccountColumns,
} from "./others.js";
import { podColumns, printPod, type RowCondition } from "./pod.js";

export interface TableOptions {
  /** Milliseconds since the epoch: the time ages are counted to. */
  now: number;
  /** What each row's `object` carries: PartialObjectMetadata by default, as upstream. */
  includeObject?: "None" | "Metadata" | "Object";
  /** Leave the column definitions out (the watch events after the first one). */
  noHeaders?: boolean;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export type TableRowWithConditions = TableRow & { conditions?: RowCondition[] };

type Printer = (obj: KubeObject, now: number) => { cells: unknown[]; conditions?: RowCondition[] };
const cellsOnly = <T extends KubeObject>(f: (o: T, now: number) => unknown[]): Printer => (o, now) => ({ cells: f(o as T, now) });

const PRINTERS: Record<string, { columns: TableColumnDefinition[]; print: Printer }> = {
  pods: { columns: podColumns, print: (o, now) => printPod(o as Pod, now) },
  nodes: { columns: nodeColumns, print: cellsOnly<Node>(printNode) },
  events: { columns: eventColumns, print: cellsOnly<Event>(printEvent) },
  namespaces: { columns: namespaceColumns, print: cellsOnly<Namespace>(printNamespace) },
  secrets: { columns: secretColumns, print: cellsOnly<Secret>(printSecret) },
  configmaps: { columns: configMapColumns, print: cellsOnly(printConfigMap) },
  serviceaccounts: { columns: serviceAccountColumns, print: cellsOnly<ServiceAccount>(printServiceAccount) },
  leases: { columns: leaseColumns, print: cellsOnly<Lease>(printLease) },
};

/** The column definitions of `resource` (plural, lower case: `pods`), or the default Name/Created At pair. */
export function tableColumns(resource: string): TableColumnDefinition[] {
  return (PRINTERS[resource] ?? { columns: defaultColumns }).columns;
}

function rowObject(obj: KubeObject, include: "None" | "Metadata" | "Object"): unknown {
  if (include === "None") return undefined;
  if (include === "Object") return obj;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
}

/** A meta.k8s.io/v1 Table of `objs`, one row each, in the order given. */
export function toTable(resource: string, objs: KubeObject[], opts: TableOptions): Table {
  const printer: { columns: TableColumnDefinition[]; print: Printer } =
    PRINTERS[resource] ?? { columns: defaultColumns, print: (o: KubeObject) => ({ cells: printDefault(o) }) };
  const include = opts.includeObject ?? "Metadata";
  const rows: TableRowWithConditions[] = objs.map((obj) => {
    const { cells, conditions } = printer.print(obj, opts.now);
    const row: TableRowWithConditions = { cells };
    if (conditions) row.conditions = conditions;
    const object = rowObject(obj, include);
    if (object !== undefined) row.object = object;
    return row;
  });
  const metadata: Table["metadata"] = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: opts.noHeaders ? [] : printer.columns,
    rows,
  };
}
