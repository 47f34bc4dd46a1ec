export type * from "./cri.js";
export * from "./volumes/index.js";
export * from "./logs/index.js";
