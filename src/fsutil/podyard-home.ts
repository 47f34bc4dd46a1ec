/**
 * podyard's state directory on this machine: `$PODYARD_HOME` when set, else
 * `/var/lib/podyard` for root and `~/.local/share/podyard` for everyone else. The
 * login store (`auth.json`) and the registry hosts configuration (`hosts.json`) live there.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export interface PodyardHomeSource {
  /** the environment; default `process.env` */
  env?: NodeJS.ProcessEnv;
  /** the user id; default `process.getuid()` */
  uid?: number;
  /** the home directory; default `os.homedir()` */
  home?: string;
}

export function podyardHome(from: PodyardHomeSource = {}): string {
  const env = from.env ?? process.env;
  if (env.PODYARD_HOME !== undefined && env.PODYARD_HOME !== "") return env.PODYARD_HOME;
  const uid = from.uid ?? process.getuid?.();
  if (uid === 0) return "/var/lib/podyard";
  return join(from.home ?? homedir(), ".local", "share", "podyard");
}
