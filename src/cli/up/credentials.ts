/**
 * Who may talk to the API server: the holder of the bearer token in `$PODYARD_HOME/token`
 * (kube-apiserver's static token file, one token) or of a client certificate signed by the
 * node's CA (x509 client auth: user = CN, groups = O).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { errnoCode } from "../../errdefs/index.js";
import { writeFileAtomic } from "../../fsutil/index.js";

export interface UserInfo {
  user: string;
  groups: string[];
}

/** The token in `<home>/token`, made (32 random bytes, hex, mode 0600) when there is none. */
export async function ensureToken(home: string): Promise<string> {
  const path = join(home, "token");
  try {
    const text = (await readFile(path, "utf8")).trim();
    if (text !== "") return text;
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  const token = randomBytes(32).toString("hex");
  await writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
  return token;
}

function sameToken(given: string, token: Buffer): boolean {
  const g = Buffer.from(given);
  return g.length === token.length && timingSafeEqual(g, token);
}

/**
 * The API server's `authenticate` hook. The HTTPS server must ask for client certificates
 * against the CA without refusing connections that have none (`requestCert: true,
 * rejectUnauthorized: false, ca`): then `socket.authorized` says the CA signed the one given.
 */
export function makeAuthenticator(token: string): (req: IncomingMessage) => UserInfo | undefined {
  const want = Buffer.from(token);
  return (req) => {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      // a wrong token is refused even when a certificate would do, as kube-apiserver does
      return m?.[1] !== undefined && sameToken(m[1], want) ? { user: "podyard-admin", groups: ["system:masters", "system:authenticated"] } : undefined;
    }
    const socket = req.socket as Partial<TLSSocket>;
    if (socket.authorized === true && typeof socket.getPeerCertificate === "function") {
      const peer = socket.getPeerCertificate();
      const subject = peer.subject as Record<string, string | string[] | undefined> | undefined;
      const cn = subject?.CN;
      const o = subject?.O;
      const user = Array.isArray(cn) ? cn[0] : cn;
      if (user === undefined || user === "") return undefined;
      const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
      return { user, groups: [...groups, "system:authenticated"] };
    }
    return undefined;
  };
}
