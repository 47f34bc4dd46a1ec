/**
 * Server-side Table printing for `kubectl get` (kube-apiserver's pkg/printers/internalversion).
 */
export { toTable, tableColumns } from "./table.js";
export type { TableOptions, TableRowWithConditions } from "./table.js";
export { humanDuration, ageSince } from "./duration.js";
export { printPod } from "./pod.js";
export type { RowCondition } from "./pod.js";
