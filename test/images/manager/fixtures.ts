/** Fixtures for the image manager tests: pods, an event log, a request log at the registry, a proxy that holds manifest requests. */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Container, Pod, PullPolicy, Secret } from "../../../src/api/index.js";
import type { EnsureImageRequest, EnsureImageResult, ImageManager } from "../../../src/images/index.js";
import type { TestRegistry } from "../../helpers/registry.js";

export function makePod(uid: string, name = `pod-${uid}`): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", uid }, spec: { containers: [] } };
}

export interface EventLog {
  list: string[];
  record: EnsureImageRequest["record"];
}

export function eventLog(): EventLog {
  const list: string[] = [];
  return { list, record: (type, reason, message) => list.push(`${type} ${reason} ${message}`) };
}

export async function ensure(
  m: ImageManager, pod: Pod, image: string, opts: { policy?: PullPolicy; secrets?: Secret[]; events?: EventLog } = {},
): Promise<EnsureImageResult & { events: string[] }> {
  const events = opts.events ?? eventLog();
  const container: Container = { name: "app", image, ...(opts.policy ? { imagePullPolicy: opts.policy } : {}) };
  const res = await m.ensureImageExists({ pod, container, pullSecrets: opts.secrets ?? [], record: events.record });
  return { ...res, events: events.list };
}

/** `METHOD path` of every request the registry gets, from now on. */
export function requestLog(reg: TestRegistry): string[] {
  const log: string[] = [];
  reg.server.server.prependListener("request", (req: IncomingMessage) => log.push(`${req.method ?? ""} ${req.url ?? ""}`));
  return log;
}

export interface HoldingProxy {
  /** The proxy's host:port, to name images by. */
  host: string;
  /** Repositories whose manifest requests arrived (held or not), in order of the first arrival of each. */
  arrivals: string[];
  /** Lets the held manifest requests of `repo` (and later ones) through. */
  release(repo: string): void;
  close(): Promise<void>;
}

/** An HTTP proxy in front of `target` that holds each repository's manifest requests until released. */
export async function holdingProxy(target: string): Promise<HoldingProxy> {
  const t = new URL(target);
  const released = new Set<string>();
  const waiting = new Map<string, (() => void)[]>();
  const arrivals: string[] = [];
  const server: Server = createServer((req, res) => {
    const m = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(req.url ?? "");
    const forward = (): void => {
      const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
    };
    const repo = m?.[1];
    if (repo === undefined) return forward();
    if (!arrivals.includes(repo)) {
      arrivals.push(repo);
    }
    if (released.has(repo)) return forward();
    const list = waiting.get(repo) ?? [];
    list.push(forward);
    waiting.set(repo, list);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    arrivals,
    release: (repo) => {
      released.add(repo);
      for (const f of waiting.get(repo) ?? []) f();
      waiting.delete(repo);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
