/**
 * What a long-lived node (the kubelet's Always pulls) may keep between pulls, and when it must
 * look again: an up-to-date pull leaves the image's record as it was, and a manifest or config
 * changed on disk after it was read is checked again, deleted and fetched anew.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { open, utimes } from "node:fs/promises";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { buildTestImage, openTestNode, pushLayout } from "../helpers/images.js";

let reg: TestRegistry;
let image: Awaited<ReturnType<typeof buildTestImage>>;
let ref: string;

before(async () => {
  reg = await startRegistry();
  image = await buildTestImage();
  await pushLayout(reg.url, "cache/busybox", "v1", image);
  ref = `${new URL(reg.url).host}/cache/busybox:v1`;
});
after(async () => {
  await reg.close();
  await image.cleanup();
});

/** Overwrites the first byte of a stored blob in place (same size) and moves its mtime on. */
async function corrupt(path: string): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 0);
    await fh.write(Buffer.from([b[0] === 0x20 ? 0x21 : 0x20]), 0, 1, 0);
  } finally {
    await fh.close();
  }
  const later = new Date(Date.now() + 60_000);
  await utimes(path, later, later);
}

test("a second pull of an unchanged image is up to date and leaves its record (and its times) as they were", async (t) => {
  const node = await openTestNode();
  t.after(() => node.close());
  await node.env.imageService.pull(ref);
  const before = node.env.images.get(ref);
  await new Promise((r) => setTimeout(r, 5));
  const again = await node.env.imageService.pull(ref);
  assert.equal(again.downloaded, false, "Image is up to date");
  assert.deepEqual(node.env.images.get(ref), before);
});

test("a config or manifest changed on disk after a pull read it is found at the next pull, deleted and fetched again", async (t) => {
  const node = await openTestNode();
  t.after(() => node.close());
  assert.equal((await node.env.imageService.pull(ref)).downloaded, true);
  assert.equal((await node.env.imageService.pull(ref)).downloaded, false, "read once, and kept");
  for (const d of [image.manifest.config.digest, image.manifestDescriptor.digest]) {
    await corrupt(node.env.content.path(d));
    const res = await node.env.imageService.pull(ref);
    assert.equal(res.downloaded, true, `${d} was fetched again`);
    const bytes = await node.env.imageService.readBlob(d);
    assert.equal(bytes.length, (await node.env.content.info(d))?.size);
    assert.equal((await node.env.imageService.pull(ref)).downloaded, false, "and is intact now");
  }
});
