/** A minimal default-scheduler that talks to the API server over HTTP, as kube-scheduler does. */
export { Scheduler, SCHEDULER_NAME } from "./scheduler.js";
export type { SchedulerOptions } from "./scheduler.js";
export { HttpSchedulerApi } from "./api-client.js";
export type { ApiConnection, SchedulerApi, WatchEvent } from "./api-client.js";
export { findNode, nodeReady, podsPerNode } from "./fit.js";
export type { FitResult } from "./fit.js";
