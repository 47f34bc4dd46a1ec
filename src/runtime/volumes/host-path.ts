/** hostPath volumes: the type checks of pkg/volume/hostpath (`checkTypeInternal`). */
import type { Stats } from "node:fs";
import { mkdir, open, stat } from "node:fs/promises";
import type { HostPathType } from "../../api/index.js";
import { errnoCode } from "../../errdefs/index.js";
import { backstepsError } from "./paths.js";
import { VolumePluginError } from "./types.js";

async function statIfAny(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return undefined;
    throw err;
  }
}

function fail(path: string, what: string): never {
  throw new VolumePluginError(`hostPath type check failed: ${path} is not ${what}`);
}

/** Checks (and for the *OrCreate types, makes) the host path; throws with the kubelet's text. */
export async function checkHostPath(path: string, type: HostPathType | undefined): Promise<void> {
  const back = backstepsError(path);
  if (back) throw new VolumePluginError(`invalid HostPath \`${path}\`: ${back}`);
  const t = type ?? "";
  if (t === "") return;
  let st = await statIfAny(path);
  switch (t) {
    case "DirectoryOrCreate":
      if (!st) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!st.isDirectory()) fail(path, "a directory");
      return;
    case "Directory":
      if (!st?.isDirectory()) fail(path, "a directory");
      return;
    case "FileOrCreate":
      if (!st) {
        try {
          await (await open(path, "wx", 0o644)).close();
        } catch (err) {
          if (errnoCode(err) !== "EEXIST") throw err;
        }
        st = await statIfAny(path);
      }
      if (!st || st.isDirectory()) fail(path, "a file");
      return;
    case "File":
      if (!st || st.isDirectory()) fail(path, "a file");
      return;
    case "Socket":
      if (!st?.isSocket()) fail(path, "a socket file");
      return;
    case "CharDevice":
      if (!st?.isCharacterDevice()) fail(path, "a character device");
      return;
    case "BlockDevice":
      if (!st?.isBlockDevice()) fail(path, "a block device");
      return;
    default:
      throw new VolumePluginError(`${String(t)} is an invalid volume type`);
  }
}
