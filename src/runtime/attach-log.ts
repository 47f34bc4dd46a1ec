/**
 * attach, best effort: the container's output read back from its CRI log file as it grows
 * (conmon's attach socket is SOCK_SEQPACKET, which Node cannot open), until the container
 * exits or the client goes away. Whatever the client sends on stdin is dropped.
 */
import { open, stat } from "node:fs/promises";
import type { AttachRequest, StreamIO } from "./cri.js";

const POLL_MS = 100;

/** Whether the client's output stream was closed (how a client without stdin leaves). */
function gone(w: NodeJS.WritableStream | undefined): boolean {
  const s = w as (NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean }) | undefined;
  return s?.destroyed === true || s?.writableEnded === true;
}

/** Follows `logPath` from its current end; `running()` says whether to go on. */
export async function followLog(logPath: string, req: AttachRequest, io: StreamIO, running: () => Promise<boolean>): Promise<void> {
  let offset = (await stat(logPath).catch(() => ({ size: 0 }))).size;
  let detached = false;
  io.stdin?.on("end", () => { detached = true; });
  io.stdin?.on("close", () => { detached = true; });
  io.stdin?.resume();
  let rest = "";
  while (!detached && !gone(io.stdout)) {
    const st = await stat(logPath).catch(() => undefined);
    // a rotated log starts again from its beginning
    if (st && st.size < offset) offset = 0;
    if (st && st.size > offset) {
      const fh = await open(logPath, "r");
      const buf = Buffer.alloc(st.size - offset);
      try {
        await fh.read(buf, 0, buf.length, offset);
      } finally {
        await fh.close();
      }
      offset = st.size;
      const lines = (rest + buf.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(line);
        if (!m) continue;
        const text = m[2] === "F" ? `${m[3] ?? ""}\n` : (m[3] ?? "");
        if (m[1] === "stdout" && req.stdout) io.stdout?.write(text);
        if (m[1] === "stderr" && req.stderr) (io.stderr ?? io.stdout)?.write(text);
      }
    }
    if (!(await running())) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
