/**
 * The Kubernetes API's object shapes (core/v1, meta/v1), shared by the API server and the
 * kubelet, which talk to each other only through these, as JSON over HTTP.
 */
export type * from "./meta.js";
export type * from "./core-v1.js";
export { defaultImagePullPolicy } from "./defaults-image.js";
export { setDefaultsPod, setDefaultsObject, prepareForCreate, podQOSClass } from "./defaults.js";
export { formatMicroTime, formatTime } from "./time.js";
export { parseQuantity, quantityMilli, quantityValue, QuantityFormatError } from "./quantity.js";
