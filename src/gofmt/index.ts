/** Go's text formats (`%q`, time.Duration, slices, aggregate errors) that the messages we copy from Kubernetes print. */
export { goQuote } from "./quote.js";
export { formatGoDuration } from "./duration.js";
export { aggregateMessage, goList } from "./lists.js";
