/**
 * The node `podyard up` starts runs image garbage collection beside the kubelet: every 5 min an
 * image no container uses is removed once the image filesystem is above the high threshold.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../../../src/clock/index.js";
import { startAgent } from "../../../src/cli/up/agent.js";
import { realParts } from "../../../src/cli/up/real-parts.js";
import { openNodeEnv } from "../../../src/cli/node-env.js";
import { CriImageService } from "../../../src/images/index.js";
import { buildTestImage, pushLayout } from "../../helpers/images.js";
import { startRegistry } from "../../helpers/registry.js";

test("podyard up's node removes an unused image when image GC runs", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "podyard-gcwire-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const clock = new FakeClock(Date.now());
  const reg = await startRegistry();
  t.after(() => reg.close());
  const image = await buildTestImage();
  t.after(() => image.cleanup());
  await pushLayout(reg.url, "gc/busybox", "v1", image);
  const ref = `${new URL(reg.url).host}/gc/busybox:v1`;
  const listImages = async (): Promise<string[]> => {
    const env = await openNodeEnv({ home });
    try {
      const cri = new CriImageService({ images: env.imageService, contentDir: join(home, "content"), snapshotsDir: join(home, "snapshots"), clock });
      return (await cri.listImages()).flatMap((i) => i.repoTags);
    } finally {
      env.close();
    }
  };
  {
    const env = await openNodeEnv({ home });
    const cri = new CriImageService({ images: env.imageService, contentDir: join(home, "content"), snapshotsDir: join(home, "snapshots"), clock });
    await cri.pullImage({ image: ref }).finally(() => env.close());
  }
  assert.deepEqual(await listImages(), [ref]);

  const lines: string[] = [];
  const agent = await startAgent({
    home, apiAddr: { host: "127.0.0.1", port: 0 }, registryAddr: { host: "127.0.0.1", port: 0 }, kubeletPort: 0, nodeName: "gc-node",
    runtime: "crun", mirror: false, mirrorUpstream: null, clock, log: (l) => lines.push(l),
    // any use of the disk is above 1 %: GC frees every unused image
    imageConfig: { imageGCHighThresholdPercent: 1, imageGCLowThresholdPercent: 0, imageMinimumGCAge: 0 },
  }, realParts);
  let stopped = false;
  t.after(() => (stopped ? undefined : agent.stop()));
  clock.step(300_000);
  // let the GC pass begin; stopping the kubelet then waits for it to finish
  await new Promise((r) => setTimeout(r, 100));
  await agent.stop();
  stopped = true;
  assert.deepEqual(await listImages(), [], lines.join("\n"));
});
