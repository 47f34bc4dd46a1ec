/**
 * The handler table: one handler per route and method (distribution's handlers/app.go).
 * A method a route does not list gets 405 UNSUPPORTED from the dispatcher.
 */
import type { RouteName } from "../../api/index.js";
import type { Handler } from "../context.js";
import { deleteBlob } from "./delete-blob.js";
import { deleteManifest } from "./delete-manifest.js";
import { deleteUpload } from "./delete-upload.js";
import { getBase } from "./get-base.js";
import { getBlob } from "./get-blob.js";
import { getCatalog } from "./get-catalog.js";
import { getManifest } from "./get-manifest.js";
import { getReferrers } from "./get-referrers.js";
import { getTags } from "./get-tags.js";
import { getUpload } from "./get-upload.js";
import { patchUpload } from "./patch-upload.js";
import { postUpload } from "./post-upload.js";
import { putManifest } from "./put-manifest.js";
import { putUpload } from "./put-upload.js";

export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export const HANDLERS: Record<RouteName, Partial<Record<Method, Handler>>> = {
  base: { GET: getBase, HEAD: getBase },
  catalog: { GET: getCatalog },
  tags: { GET: getTags },
  manifest: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
  blob: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob },
  blobUploadStart: { POST: postUpload },
  blobUpload: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload },
  referrers: { GET: getReferrers },
};

/** The access a route and method need, in distribution's action names. */
export function requiredActions(method: Method): string[] {
  switch (method) {
    case "GET":
    case "HEAD":
      return ["pull"];
    case "DELETE":
      return ["delete"];
    default:
      return ["pull", "push"];
  }
}
