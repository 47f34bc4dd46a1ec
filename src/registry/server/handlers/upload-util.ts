/** Pieces shared by the upload handlers: the session's Location and the chunk range. */
import { urls } from "../../api/index.js";
import { RegistryError } from "../errcode.js";
import type { AppendOptions, UploadState } from "../storage/index.js";
import { rangeHeaders } from "../storage/index.js";
import type { IncomingMessage } from "node:http";
import { contentLength } from "../http-util.js";

export function uploadHeaders(s: UploadState): Record<string, string> {
  return { Location: urls.blobUpload(s.name, s.uuid), ...rangeHeaders(s) };
}

/** The chunk bounds a PATCH or closing PUT declares with `Content-Range: <start>-<end>`. */
export function chunkOptions(req: IncomingMessage): AppendOptions {
  const header = req.headers["content-range"];
  const declared = contentLength(req);
  if (header === undefined) return declared === undefined ? {} : { length: declared };
  const m = /^(?:bytes )?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) {
    throw new RegistryError("BLOB_UPLOAD_INVALID", `invalid Content-Range ${JSON.stringify(header)}: want <start>-<end>`, { status: 416 });
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError("BLOB_UPLOAD_INVALID", `invalid Content-Range ${header}: end before start`, { status: 416 });
  const length = end - start + 1;
  if (declared !== undefined && declared !== length) {
    throw new RegistryError("SIZE_INVALID", `Content-Range ${header} covers ${length} bytes, but Content-Length is ${declared}`);
  }
  return { start, length };
}
