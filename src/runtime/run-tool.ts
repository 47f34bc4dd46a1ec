/** Runs a host tool (mount, nsenter, crun…) and turns a failure into an error naming the command and its stderr. */
import { execFile } from "node:child_process";
import { UnavailableError } from "../errdefs/index.js";

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** `name`: what the error message calls the command (default: the command line). */
export function runTool(file: string, args: readonly string[], opts: { cwd?: string; input?: string; name?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const text = stderr.trim() || err.message;
        reject(new UnavailableError(`${opts.name ?? [file, ...args].join(" ")}: ${text}`, { cause: err }));
        return;
      }
      resolve({ stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The runtime's own message out of its stderr (crun/runc print `<time> error: …` or JSON log lines). */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const msgs = lines.map((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string; level?: string };
      return j.msg ?? l;
    } catch {
      // runc logs logfmt: time="…" level=error msg="…" (quotes inside escaped)
      const logfmt = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(l);
      if (logfmt) return (logfmt[1] ?? "").replace(/\\(.)/g, "$1");
      return l.replace(/^(?:crun|runc):?\s*/, "");
    }
  });
  return msgs[msgs.length - 1] ?? "";
}
