/**
 * Request bodies: read with a size limit (413 past it), decoded by Content-Type (JSON, YAML,
 * the protobuf envelope), and the Accept header's wishes (Table, aggregated discovery).
 */
import type { IncomingMessage } from "node:http";
import YAML from "yaml";
import { decodeProtobuf } from "./protobuf.js";
import { ApiError, badRequest } from "./status.js";

export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export function tooLarge(limit: number): ApiError {
  return new ApiError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
}

/** The whole body, or a 413 ApiError as soon as it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on("error", (err) => { if (!failed) { failed = true; reject(err); } });
  });
}

/** The media type of a Content-Type header, without parameters, lower case. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export const BODY_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
export const PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`);
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function parseYaml(body: Buffer): unknown {
  try {
    return YAML.parse(body.toString("utf8"), { maxAliasCount: 100 });
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: yaml: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** An object body of a create or update, by Content-Type. */
export function decodeObjectBody(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  const type = mediaType(contentType) || "application/json";
  let value: unknown;
  if (type === "application/json") value = parseJson(body);
  else if (type === "application/yaml") value = parseYaml(body);
  else if (type === "application/vnd.kubernetes.protobuf") value = decodeProtobuf(body);
  else throw unsupportedMediaType(BODY_TYPES);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("Object 'Kind' is missing in the request body: the body must be one JSON or YAML object");
  }
  return value as Record<string, unknown>;
}

/** Whether Accept asks for a meta.k8s.io Table (kubectl get's human output). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const part of accept.split(",")) {
    const p = part.replace(/\s+/g, "");
    if (p.includes("as=Table") && p.includes("g=meta.k8s.io")) return true;
    if (p === "application/json" || p === "*/*" || p === "application/yaml") return false;
  }
  return false;
}

/** Removes the fields at `paths` (`spec.containers[0].imag`), as decoding into Go types drops them. */
export function dropPaths(obj: unknown, paths: string[]): void {
  for (const path of paths) {
    const segs = path.replace(/^\./, "").split(/\.(?![^[]*\])/).flatMap((s) => {
      const m = /^([^[]*)((?:\[\d+\])*)$/.exec(s);
      if (!m) return [s];
      return [m[1] ?? "", ...[...(m[2] ?? "").matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]))].filter((x) => x !== "");
    });
    let cur: unknown = obj;
    for (let i = 0; i < segs.length - 1; i++) {
      const k = segs[i] as string | number;
      cur = typeof cur === "object" && cur !== null ? (cur as Record<string | number, unknown>)[k] : undefined;
    }
    const last = segs[segs.length - 1];
    if (typeof cur === "object" && cur !== null && last !== undefined && !Array.isArray(cur)) delete (cur as Record<string | number, unknown>)[last];
  }
}
