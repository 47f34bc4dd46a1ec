/** Ensure-secret-pulled-images records: what is on disk, what a crash mid-pull leaves, the allowlist policy. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import type { Secret } from "../../../src/api/index.js";
import { FakeClock } from "../../../src/clock/index.js";
import { CriImageService, FsPullRecords, KubeletImageManager, type ImageManagerConfig } from "../../../src/images/index.js";
import { BasicAuthorizer, Htpasswd } from "../../../src/registry/server/index.js";
import { buildTestImage, openTestNode, pushLayout, type TestNode } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { ensure, makePod, requestLog } from "./fixtures.js";

let priv: TestRegistry;
let image: Awaited<ReturnType<typeof buildTestImage>>;
let host: string;
let ref: string;
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const secret: Secret = {
  apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson",
  metadata: { name: "regcred", namespace: "default", uid: "uid-regcred" },
  data: { ".dockerconfigjson": "" },
};

before(async () => {
  priv = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: Htpasswd.parse(`alice:${bcrypt.hashSync("wonderland", 4)}\n`), realm: "podyard" }) });
  host = new URL(priv.url).host;
  ref = `${host}/team/secret:v1`;
  secret.data = { ".dockerconfigjson": b64(JSON.stringify({ auths: { [host]: { username: "alice", password: "wonderland" } } })) };
  image = await buildTestImage();
  await pushLayout(priv.url, "team/secret", "v1", image, { credentials: { username: "alice", password: "wonderland" } });
});
after(async () => {
  await priv.close();
  await image.cleanup();
});

function setUp(node: TestNode, clock: FakeClock) {
  const cri = new CriImageService({ images: node.env.imageService, contentDir: node.env.content.root, snapshotsDir: node.env.snapshotter.root, clock });
  const stateDir = join(node.home, "kubelet");
  return { cri, stateDir, manager: (config: ImageManagerConfig = {}) => new KubeletImageManager({ imageService: cri, config, clock, stateDir }) };
}

test("a pull leaves a private (0600 in 0700) record named after the image ID, listing the secret and its credential hash; no intent", async (t) => {
  const node = await openTestNode();
  t.after(() => node.close());
  const clock = new FakeClock(Date.UTC(2026, 11, 3, 10));
  const s = setUp(node, clock);
  const res = await ensure(s.manager(), makePod("a"), ref, { secrets: [secret] });
  assert.equal(res.ok, true);
  const dir = join(s.stateDir, "image_manager");
  assert.deepEqual(await readdir(join(dir, "pulling")), []);
  const name = `sha256-${createHash("sha256").update(image.manifest.config.digest).digest("hex")}`;
  assert.deepEqual(await readdir(join(dir, "pulled")), [name]);
  assert.equal((await stat(join(dir, "pulled"))).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, "pulled", name))).mode & 0o777, 0o600);
  const record = JSON.parse(await readFile(join(dir, "pulled", name), "utf8")) as Record<string, unknown>;
  const hash = createHash("sha256").update(JSON.stringify({ username: "alice", password: "wonderland" })).digest("hex");
  assert.deepEqual(record, {
    kind: "ImagePulledRecord", apiVersion: "kubelet.config.k8s.io/v1alpha1", lastUpdatedTime: "2026-12-03T10:00:00.000Z",
    imageRef: image.manifest.config.digest,
    credentialMapping: { [`${host}/team/secret`]: { kubernetesSecrets: [{ uid: "uid-regcred", namespace: "default", name: "regcred", credentialHash: hash }] } },
  });
});

test("a pull the kubelet did not see end (an intent left by a crash) makes every pod prove access to that image", async (t) => {
  const node = await openTestNode();
  t.after(() => node.close());
  const clock = new FakeClock(0);
  const s = setUp(node, clock);
  await s.cri.pullImage({ image: ref }, { username: "alice", password: "wonderland" });
  assert.equal((await ensure(s.manager(), makePod("x"), ref)).ok, true, "without an intent: preloaded, usable by all");

  await new FsPullRecords(join(s.stateDir, "image_manager")).writeIntent({ image: ref });
  const m = s.manager();
  const log = requestLog(priv);
  const without = await ensure(m, makePod("y"), ref);
  assert.equal(without.ok === false && without.reason, "ErrImagePull");
  assert.ok(log.some((l) => l.includes("/manifests/")));
  assert.deepEqual(await readdir(join(s.stateDir, "image_manager", "pulling")), [], "the intent became a record");
  const withSecret = await ensure(m, makePod("z"), ref, { secrets: [secret] });
  assert.equal(withSecret.ok, true);
  assert.deepEqual(withSecret.events.map((e) => e.split(" ")[1]), ["Pulling", "Pulled"], "the secret's pull proves access");
  const again = await ensure(m, makePod("w"), ref, { secrets: [secret] });
  assert.deepEqual(again.events, [`Normal Pulled Container image "${ref}" already present on machine and can be accessed by the pod`]);
});

test("NeverVerifyAllowlistedImages: allowlisted repositories are usable by every pod, others must prove access", async (t) => {
  const node = await openTestNode();
  t.after(() => node.close());
  const clock = new FakeClock(0);
  const s = setUp(node, clock);
  assert.equal((await ensure(s.manager(), makePod("a"), ref, { secrets: [secret] })).ok, true);
  const allow = s.manager({ imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages", preloadedImagesVerificationAllowlist: [`${host}/team/*`] });
  assert.equal((await ensure(allow, makePod("b"), ref)).ok, true);
  const exact = s.manager({ imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages", preloadedImagesVerificationAllowlist: [`${host}/team/secret`] });
  assert.equal((await ensure(exact, makePod("c"), ref)).ok, true);
  const other = s.manager({ imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages", preloadedImagesVerificationAllowlist: [`${host}/other/*`] });
  assert.equal((await ensure(other, makePod("d"), ref)).ok, false);
});
