/** Builds the pull-through cache's upstream source from the serve flags. */
import type { Registry, UpstreamSource } from "../registry/server/index.js";

export interface UpstreamFlags {
  root: string;
  url: string;
  username?: string;
  password?: string;
}

export function registryUpstream(_registry: () => Registry, _flags: UpstreamFlags): UpstreamSource {
  throw new Error("pull-through cache is not wired yet");
}
