/** What every handler gets: the request, the response, the matched route and the registry. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteMatch } from "../api/index.js";
import type { Access } from "./auth/index.js";
import type { Registry } from "./registry.js";
import type { UpstreamSource } from "./proxy.js";

export interface ServerSettings {
  /** DELETE of manifests, tags and blobs; off → 405 UNSUPPORTED */
  deleteEnabled: boolean;
  /** POST ?mount= without from= links any blob the registry holds (only without auth) */
  anonymousMount: boolean;
  /** a pull-through cache refuses pushes and deletes */
  readOnly: boolean;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly match: RouteMatch;
  readonly registry: Registry;
  readonly settings: ServerSettings;
  readonly upstream: UpstreamSource | undefined;
  /** Checks further access (a mount's source repository) for the same caller. */
  authorize(access: Access[]): Promise<void>;
}

export type Handler = (ctx: RequestContext) => Promise<void>;
