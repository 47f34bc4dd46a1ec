/**
 * `docker import --change`: Dockerfile instructions applied to a new image's config.
 * Supported: CMD, ENTRYPOINT (exec form `["a","b"]` or shell form), ENV, LABEL
 * (`k=v …`, or ENV's legacy `k v`), EXPOSE, USER, WORKDIR, STOPSIGNAL, VOLUME.
 */
import { InvalidArgumentError } from "../../errdefs/index.js";
import type { ImageConfig } from "../../oci/index.js";

export type ContainerConfig = NonNullable<ImageConfig["config"]> & { Volumes?: Record<string, Record<string, never>> };

function bad(change: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid change ${JSON.stringify(change)}: ${why}`);
}

/** Splits `a=1 b="two words" c=x\ y` into words, honouring quotes and backslashes. */
function words(s: string, change: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw bad(change, `unterminated ${quote} quote`);
  if (inWord) out.push(cur);
  return out;
}

/** `k=v` pairs, or the legacy single `k v` form. */
function pairs(args: string, change: string): [string, string][] {
  const ws = words(args, change);
  if (ws.length === 0) throw bad(change, "needs at least one key=value");
  if (!(ws[0] ?? "").includes("=")) {
    const m = /^(\S+)\s+(.*)$/s.exec(args.trim());
    if (!m) throw bad(change, "needs key=value or key value");
    return [[m[1] ?? "", words(m[2] ?? "", change).join(" ")]];
  }
  return ws.map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0) throw bad(change, `${JSON.stringify(w)} is not key=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** The exec form (a JSON array of strings) or the shell form (`/bin/sh -c …`). */
function command(args: string, change: string): string[] {
  const t = args.trim();
  if (t.startsWith("[")) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      v = undefined;
    }
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    throw bad(change, "the exec form must be a JSON array of strings");
  }
  return ["/bin/sh", "-c", t];
}

/** `config` with `changes` applied, in order; throws InvalidArgumentError naming a bad change. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: ContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)(?:\s+(.*))?$/s.exec(change);
    if (!m) throw bad(change, "want INSTRUCTION ARGUMENTS, e.g. CMD [\"/bin/sh\"]");
    const instruction = (m[1] ?? "").toUpperCase();
    const args = (m[2] ?? "").trim();
    if (args === "") throw bad(change, `${instruction} needs arguments`);
    switch (instruction) {
      case "CMD":
        out.Cmd = command(args, change);
        break;
      case "ENTRYPOINT":
        out.Entrypoint = command(args, change);
        break;
      case "ENV": {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of pairs(args, change)) {
          const i = env.findIndex((e) => e.split("=", 1)[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case "LABEL":
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs(args, change)) };
        break;
      case "EXPOSE": {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of words(args, change)) {
          if (!/^\d{1,5}(?:-\d{1,5})?(?:\/(?:tcp|udp|sctp))?$/i.test(p)) throw bad(change, `invalid port ${JSON.stringify(p)}`);
          ports[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case "USER":
        out.User = args;
        break;
      case "WORKDIR":
        out.WorkingDir = args;
        break;
      case "STOPSIGNAL":
        out.StopSignal = args;
        break;
      case "VOLUME": {
        const list = args.startsWith("[") ? command(args, change) : words(args, change);
        out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(list.map((v) => [v, {}])) };
        break;
      }
      default:
        throw bad(change, `${instruction} is not supported (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR)`);
    }
  }
  return out;
}
