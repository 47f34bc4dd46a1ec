/**
 * A whole Kubelet against the in-memory API server and runtime on a FakeClock, for tests that
 * drive pods through their life (the same set-up kubelet-fake.test.ts uses).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Event, Pod } from "../../src/api/index.js";
import { FakeClock } from "../../src/clock/index.js";
import type { ImageService } from "../../src/images/index.js";
import { Kubelet, KubeClient, type PodHelpers } from "../../src/kubelet/index.js";
import { FakeApiServer } from "./fake-apiserver.js";
import { FakeImages, FakeRuntime, fakeHelpers } from "./fake-runtime.js";

export const PODS = "/api/v1/namespaces/default/pods";
export const T0 = Date.parse("2026-12-03T10:00:00Z");

export interface Env {
  api: FakeApiServer; clock: FakeClock; rt: FakeRuntime; images: FakeImages; client: KubeClient; home: string;
  newKubelet(opts?: { realHelpers?: boolean; helpers?: PodHelpers; podPidsLimit?: number }): Kubelet;
}

export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

export async function setup(t: TestContext): Promise<Env> {
  const api = new FakeApiServer();
  await api.start();
  const home = await mkdtemp(join(tmpdir(), "kubelet-fake-"));
  const clock = new FakeClock(T0);
  const rt = new FakeRuntime(clock);
  const images = new FakeImages();
  const client = new KubeClient({ server: api.url });
  const kubelets: Kubelet[] = [];
  t.after(async () => {
    for (const k of kubelets) await k.stop();
    client.close();
    await api.close();
    await rm(home, { recursive: true, force: true });
  });
  return {
    api, clock, rt, images, client, home,
    newKubelet: (opts = {}) => {
      const helpers = opts.helpers ?? (opts.realHelpers ? undefined : fakeHelpers);
      const k = new Kubelet({
        client, nodeName: "n1", runtime: rt, imageService: images as unknown as ImageService, imageManager: images, home, clock, ...(helpers ? { helpers } : {}),
        ...(opts.podPidsLimit !== undefined ? { podPidsLimit: opts.podPidsLimit } : {}),
        log: (m) => { if (process.env.KLOG) process.stderr.write(`LOG ${m}\n`); },
      });
      kubelets.push(k);
      return k;
    },
  };
}

/** Waits until the kubelet has gone quiet: no new requests, runtime calls or sleepers for a while. */
export async function settle(env: Env): Promise<void> {
  let last = "";
  let same = 0;
  for (let i = 0; i < 400 && same < 5; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const now = `${env.clock.sleepers}/${env.api.log.length}/${env.rt.calls.length}`;
    same = now === last ? same + 1 : 0;
    last = now;
  }
}

/** Steps the fake clock `seconds` times by `stepMs`, letting the kubelet's work finish between steps. */
export async function advance(env: Env, seconds: number, stepMs = 1000): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    env.clock.step(stepMs);
    await settle(env);
  }
}

export const podOf = (api: FakeApiServer, name: string): Pod | undefined => api.get(`${PODS}/${name}`) as Pod | undefined;
export const events = (api: FakeApiServer): Event[] => [...api.objects.entries()].filter(([k]) => k.startsWith("/api/v1/namespaces/default/events/")).map(([, v]) => v as Event);
export const spec = (name: string, containers: Pod["spec"]["containers"], extra: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName: "n1", containers, ...extra },
});
