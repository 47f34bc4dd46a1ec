/** Bounds on concurrent work, shared by the parts that run tasks side by side (downloads, unpacks, pulls). */
export { Limiter, SingleFlight } from "./limiter.js";
export { Backoff } from "./backoff.js";
export type { BackoffExpiry, BackoffOptions } from "./backoff.js";
