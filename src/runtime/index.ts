export type * from "./cri.js";
