/** The CRI ImageService against a real registry (with Basic auth), content store, database and snapshotter. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { FakeClock } from "../../src/clock/index.js";
import { CriImageService, fsck, loadArchive, saveImages, type ImageService } from "../../src/images/index.js";
import { BasicAuthorizer, Htpasswd } from "../../src/registry/server/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { buildTestImage, openTestNode, pushLayout, type TestNode } from "../helpers/images.js";

let reg: TestRegistry;
let image: Awaited<ReturnType<typeof buildTestImage>>;
let host: string;
let ref: string;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

before(async () => {
  reg = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: Htpasswd.parse(`alice:${bcrypt.hashSync("wonderland", 4)}\n`), realm: "podyard" }) });
  host = new URL(reg.url).host;
  ref = `${host}/pods/busybox:v1`;
  image = await buildTestImage({
    extraLayers: [{ entries: [{ type: "file", path: "etc/motd", content: Buffer.from("hello\n"), mode: 0o644 }], createdBy: "COPY motd /etc/motd" }],
  });
  await pushLayout(reg.url, "pods/busybox", "v1", image, { credentials: { username: "alice", password: "wonderland" } });
});
after(async () => {
  await reg.close();
  await image.cleanup();
});

function cri(node: TestNode, clock = new FakeClock(Date.UTC(2026, 0, 2))): ImageService {
  return new CriImageService({ images: node.env.imageService, contentDir: node.env.content.root, snapshotsDir: node.env.snapshotter.root, clock });
}

/** The node's own login for the test registry: a wrong password. */
async function wrongLogin(node: TestNode): Promise<void> {
  await writeFile(join(node.home, "auth.json"), JSON.stringify({ auths: { [host]: { auth: b64("alice:not-the-password") } } }));
}

test("imageStatus of an absent image is empty, not an error; pull, status, list, remove; removing again is no error", async () => {
  const node = await openTestNode();
  try {
    const svc = cri(node);
    assert.deepEqual(await svc.imageStatus({ image: ref }), { info: {} });
    assert.deepEqual(await svc.imageStatus({ image: image.manifest.config.digest }), { info: {} });
    assert.deepEqual(await svc.listImages(), []);

    const pulled = await svc.pullImage({ image: ref }, { username: "alice", password: "wonderland" });
    assert.equal(pulled.imageRef, image.manifest.config.digest);
    const { image: status, info } = await svc.imageStatus({ image: ref });
    assert.deepEqual(info, {});
    assert.equal(status?.id, image.manifest.config.digest);
    assert.deepEqual(status?.repoTags, [ref]);
    assert.deepEqual(status?.repoDigests, [`${host}/pods/busybox@${image.manifestDescriptor.digest}`]);
    assert.equal(status?.size, image.manifest.config.size + image.manifest.layers.reduce((n, l) => n + l.size, 0));
    assert.equal(status?.pinned, false);
    assert.deepEqual((await svc.imageStatus({ image: image.manifest.config.digest })).image?.id, status?.id, "by image ID too");
    const verbose = await svc.imageStatus({ image: ref }, true);
    assert.equal((JSON.parse(verbose.info.info ?? "{}") as { chainID: string }).chainID, node.env.images.get(ref)?.chainID);

    assert.deepEqual((await svc.listImages()).map((i) => i.id), [image.manifest.config.digest]);
    assert.deepEqual((await svc.listImages({ image: { image: ref } })).map((i) => i.id), [image.manifest.config.digest]);
    assert.deepEqual(await svc.listImages({ image: { image: `${host}/pods/other:v1` } }), []);

    await svc.removeImage({ image: ref });
    assert.deepEqual(await svc.imageStatus({ image: ref }), { info: {} });
    assert.deepEqual(await svc.listImages(), []);
    assert.deepEqual(await node.env.snapshotter.walk(), [], "its snapshots went with it");
    await svc.removeImage({ image: ref });
    await svc.removeImage({ image: image.manifest.config.digest });
  } finally {
    await node.close();
  }
});

test("pullImage uses the credentials it is given for that pull only, over the node's login", async () => {
  const node = await openTestNode();
  try {
    await wrongLogin(node);
    const svc = cri(node);
    await assert.rejects(svc.pullImage({ image: ref }), /unauthorized|authentication required/i, "the node's login is refused");
    await assert.rejects(svc.pullImage({ image: ref }, { username: "alice", password: "wonderland", serverAddress: "other.example:5000" }),
      /unauthorized|authentication required/i, "credentials for another registry are not used");
    const byAuth = await svc.pullImage({ image: ref }, { auth: b64("alice:wonderland"), serverAddress: `http://${host}` });
    assert.equal(byAuth.imageRef, image.manifest.config.digest);
    const byUser = await svc.pullImage({ image: ref }, { username: "alice", password: "wonderland" });
    assert.equal(byUser.imageRef, image.manifest.config.digest);
    await assert.rejects(svc.pullImage({ image: ref }), /unauthorized|authentication required/i, "the next pull without them uses the node's login again");
  } finally {
    await node.close();
  }
});

test("imageFsInfo reports the content store's and the snapshots' bytes and inodes", async () => {
  const node = await openTestNode();
  try {
    const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const svc = cri(node, clock);
    const empty = await svc.imageFsInfo();
    assert.deepEqual(empty.containerFilesystems, []);
    assert.deepEqual(empty.imageFilesystems.map((f) => [f.fsId.mountpoint, f.usedBytes.value, f.inodesUsed.value, f.timestamp]), [
      [node.env.content.root, 0, 0, BigInt(clock.now()) * 1_000_000n],
      [node.env.snapshotter.root, 0, 0, BigInt(clock.now()) * 1_000_000n],
    ]);
    await svc.pullImage({ image: ref }, { username: "alice", password: "wonderland" });
    const [content, snapshots] = (await svc.imageFsInfo()).imageFilesystems;
    const blobs = [image.manifestDescriptor, image.manifest.config, ...image.manifest.layers];
    assert.equal(content?.usedBytes.value, blobs.reduce((n, d) => n + d.size, 0));
    assert.equal(content?.inodesUsed.value, blobs.length);
    let bytes = 0;
    let inodes = 0;
    for (const s of await node.env.snapshotter.walk()) {
      const u = await node.env.snapshotter.usage(s.name);
      bytes += u.size;
      inodes += u.inodes;
    }
    assert.ok(bytes > 0 && inodes > 0);
    assert.deepEqual([snapshots?.usedBytes.value, snapshots?.inodesUsed.value], [bytes, inodes]);
  } finally {
    await node.close();
  }
});

test("an image fsck --repair took content from is absent to the CRI until pulled again; a docker-archive load gives no repo digest", async () => {
  const node = await openTestNode();
  const dir = await mkdtemp(join(tmpdir(), "podyard-cri-"));
  try {
    const svc = cri(node);
    await svc.pullImage({ image: ref }, { username: "alice", password: "wonderland" });
    const top = image.manifest.layers[image.manifest.layers.length - 1];
    assert.ok(top);
    await node.env.content.delete(top.digest);
    const report = await fsck({ content: node.env.content, images: node.env.images, snapshotter: node.env.snapshotter }, { repair: true });
    assert.deepEqual(report.problems.map((p) => [p.kind, p.subject, p.repair]), [["image", ref, "marked for re-pull"]]);
    assert.deepEqual(await svc.imageStatus({ image: ref }), { info: {} }, "the kubelet's IfNotPresent pulls it again");
    assert.deepEqual(await svc.listImages(), []);
    await svc.pullImage({ image: ref }, { username: "alice", password: "wonderland" });
    assert.equal((await svc.imageStatus({ image: ref })).image?.id, image.manifest.config.digest, "present again after the pull");

    const archive = join(dir, "docker.tar");
    await saveImages(node.env.imageService, [ref], archive, { format: "docker-archive" });
    const fresh = await openTestNode();
    try {
      await loadArchive(fresh.env.imageService, archive);
      const loaded = (await cri(fresh).imageStatus({ image: ref })).image;
      assert.deepEqual(loaded?.repoTags, [ref]);
      assert.deepEqual(loaded?.repoDigests, [], "a docker-archive holds no digest a registry gave");
    } finally {
      await fresh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await node.close();
  }
});
