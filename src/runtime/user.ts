/**
 * The container's uid/gid: securityContext runAsUser/runAsGroup over the image's USER
 * (`uid`, `name`, `uid:gid`, `name:group`), names looked up in the rootfs's /etc/passwd and
 * /etc/group as runc does; supplementary groups from /etc/group membership plus the given ones.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError } from "../errdefs/index.js";

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

async function readTable(rootfs: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(join(rootfs, "etc", file), "utf8");
    return text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")).map((l) => l.split(":"));
  } catch {
    return [];
  }
}

const NUMERIC = /^\d+$/;

export async function resolveUser(rootfs: string, imageUser: string | undefined, opts: {
  runAsUser?: number; runAsGroup?: number; runAsUsername?: string; supplementalGroups?: number[];
}): Promise<ResolvedUser> {
  const passwd: PasswdEntry[] = (await readTable(rootfs, "passwd")).map((f) => ({ name: f[0] ?? "", uid: Number(f[2]), gid: Number(f[3]) }));
  const groups: GroupEntry[] = (await readTable(rootfs, "group")).map((f) => ({ name: f[0] ?? "", gid: Number(f[2]), members: (f[3] ?? "").split(",").filter((m) => m !== "") }));
  const [userPart, groupPart] = (opts.runAsUsername ?? imageUser ?? "").split(":", 2);
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  if (opts.runAsUser !== undefined) {
    uid = opts.runAsUser;
    const e = passwd.find((p) => p.uid === uid);
    gid = e?.gid ?? 0;
    name = e?.name;
  } else if (userPart !== undefined && userPart !== "") {
    if (NUMERIC.test(userPart)) {
      uid = Number(userPart);
      const e = passwd.find((p) => p.uid === uid);
      gid = e?.gid ?? 0;
      name = e?.name;
    } else {
      const e = passwd.find((p) => p.name === userPart);
      if (!e) throw new InvalidArgumentError(`unable to find user ${userPart}: no matching entries in passwd file`);
      uid = e.uid;
      gid = e.gid;
      name = e.name;
    }
  } else {
    name = passwd.find((p) => p.uid === 0)?.name;
  }
  if (opts.runAsGroup !== undefined) gid = opts.runAsGroup;
  else if (groupPart !== undefined && groupPart !== "" && opts.runAsUser === undefined) {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw new InvalidArgumentError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additional = new Set<number>();
  if (name !== undefined) for (const g of groups) if (g.members.includes(name) && g.gid !== gid) additional.add(g.gid);
  for (const g of opts.supplementalGroups ?? []) if (g !== gid) additional.add(g);
  return { uid, gid, additionalGids: [...additional] };
}
