/**
 * What a running `podyard up` leaves in its home for `podyard down`, the tutorial and
 * tests: `podyard.pid` (its pid) and `up.json` (where its servers listen).
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../../errdefs/index.js";
import { writeFileAtomic } from "../../fsutil/index.js";

export interface UpInfo {
  pid: number;
  home: string;
  nodeName: string;
  /** `https://127.0.0.1:6443` */
  apiServer: string;
  /** `127.0.0.1:5000` */
  registry: string;
  kubeletPort: number;
  kubeconfig: string;
  /** whether docker.io resolves through the registry first */
  mirror: boolean;
  /** ms from the start of `podyard up` to the node Ready */
  readyAfterMs: number;
}

export const pidPath = (home: string): string => join(home, "podyard.pid");
export const logPath = (home: string): string => join(home, "podyard.log");
export const infoPath = (home: string): string => join(home, "up.json");

export async function writeUpState(info: UpInfo): Promise<void> {
  await writeFileAtomic(infoPath(info.home), `${JSON.stringify(info, null, 2)}\n`);
  await writeFileAtomic(pidPath(info.home), `${info.pid}\n`);
}

export async function clearUpState(home: string, pid: number): Promise<void> {
  // only our own pid file: a newer `up` may have replaced it
  if ((await readPid(home)) === pid) {
    await rm(pidPath(home), { force: true });
    await rm(infoPath(home), { force: true });
  }
}

export async function readPid(home: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(pidPath(home), "utf8")).trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

export async function readUpInfo(home: string): Promise<UpInfo | undefined> {
  try {
    return JSON.parse(await readFile(infoPath(home), "utf8")) as UpInfo;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** Whether `pid` is a live podyard process (its command line names podyard's CLI), not a recycled pid. */
export async function isPodyardProcess(pid: number): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // a zombie has exited already
    if (/^\d+ \(.*\) Z /.test(stat)) return false;
    return cmdline.some((a) => /podyard|cli[/\\]main\.(ts|js)$/.test(a));
  } catch {
    return false;
  }
}

/** The pid of a `podyard up` that runs for `home`, if one does. */
export async function runningUp(home: string): Promise<number | undefined> {
  const pid = await readPid(home);
  return pid !== undefined && (await isPodyardProcess(pid)) ? pid : undefined;
}
