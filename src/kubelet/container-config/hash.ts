/**
 * The container hash the kubelet records (`io.kubernetes.container.hash`) and compares to see
 * a changed spec. As the kubelet since 1.31 (`pickFieldsToHash`), only name and image count: they
 * are all a running pod's container may change. FNV-1a 32 over their JSON, in hex.
 */
import type { Container } from "../../api/index.js";

export function fnv1a32(data: Buffer): number {
  let h = 0x811c9dc5;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function computeContainerHash(container: Container): string {
  return fnv1a32(Buffer.from(JSON.stringify({ image: container.image ?? "", name: container.name }), "utf8")).toString(16);
}
