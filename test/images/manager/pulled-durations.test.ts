/**
 * The Pulled event's two durations (kubelet-images.md §3.3): the first is the pull alone, the
 * second includes waiting, so the second is never the smaller — also for a pod that joins a pull
 * another pod started (it used to report the other pod's whole pull as its own).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../../../src/clock/index.js";
import { KubeletImageManager, type ImageService } from "../../../src/images/index.js";
import { ensure, eventLog, makePod } from "./fixtures.js";

const ID = `sha256:${"a".repeat(64)}`;

test("a pod that joins another pod's pull reports only its own share of the pull, never more than it waited", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-pulled-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clock = new FakeClock(Date.UTC(2026, 11, 3, 12));
  let pulled = false;
  let release!: () => void;
  let pullStarted!: () => void;
  const started = new Promise<void>((r) => (pullStarted = r));
  let pulls = 0;
  const service: ImageService = {
    listImages: () => Promise.resolve([]),
    imageStatus: () => Promise.resolve(pulled ? { image: { id: ID, repoTags: ["docker.io/library/alpine:latest"], repoDigests: [], size: 1234, username: "", pinned: false }, info: {} } : { info: {} }),
    pullImage: async () => {
      pulls++;
      pullStarted();
      await new Promise<void>((r) => (release = r));
      pulled = true;
      return { imageRef: ID };
    },
    removeImage: () => Promise.resolve(),
    imageFsInfo: () => Promise.resolve({ imageFilesystems: [], containerFilesystems: [] }),
  };
  const m = new KubeletImageManager({ imageService: service, config: { serializeImagePulls: false }, clock, stateDir: join(dir, "kubelet") });
  const first = ensure(m, makePod("p1"), "alpine");
  await started;
  clock.step(400);
  const events = eventLog();
  const second = ensure(m, makePod("p2"), "alpine", { events });
  while (!events.list.some((e) => e.includes("Pulling"))) await new Promise((r) => setImmediate(r));
  clock.step(230);
  release();
  const [a, b] = await Promise.all([first, second]);
  assert.equal(pulls, 1, "one pull for both pods");
  assert.equal(a.events.at(-1), `Normal Pulled Successfully pulled image "alpine" in 630ms (630ms including waiting). Image size: 1234 bytes.`);
  assert.equal(b.events.at(-1), `Normal Pulled Successfully pulled image "alpine" in 230ms (230ms including waiting). Image size: 1234 bytes.`);
});
