/** Bounds on concurrent work, shared by the parts that run tasks side by side (downloads, unpacks, pulls). */
export { Limiter, SingleFlight } from "./limiter.js";
