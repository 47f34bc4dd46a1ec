/** How pulls run: the serial FIFO queue of 10, parallel tokens, credentials in order, the QPS throttle. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../../src/clock/index.js";
import { NotFoundError, UnauthenticatedError } from "../../../src/errdefs/index.js";
import {
  ParallelImagePuller, SerialImagePuller, TokenBucket, pullWithCredentials, type AuthConfig, type ImageService, type TrackedAuthConfig,
} from "../../../src/images/index.js";

/** An image service whose pulls wait until the test lets each one finish. */
function heldService(): { service: ImageService; started: string[]; finish(image: string, err?: Error): void; auths: (AuthConfig | undefined)[] } {
  const started: string[] = [];
  const auths: (AuthConfig | undefined)[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const service: ImageService = {
    listImages: () => Promise.resolve([]),
    imageStatus: (spec) => Promise.resolve({ image: { id: `id-${spec.image}`, repoTags: [], repoDigests: [], size: 42, username: "", pinned: false }, info: {} }),
    removeImage: () => Promise.resolve(),
    imageFsInfo: () => Promise.resolve({ imageFilesystems: [], containerFilesystems: [] }),
    pullImage: (spec, auth) => {
      started.push(spec.image);
      auths.push(auth);
      return new Promise((resolve, reject) => pending.set(spec.image, { resolve: () => resolve({ imageRef: `id-${spec.image}` }), reject }));
    },
  };
  const finish = (image: string, err?: Error): void => {
    const p = pending.get(image);
    pending.delete(image);
    if (err) p?.reject(err);
    else p?.resolve();
  };
  return { service, started, finish, auths };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("the serial puller runs one pull at a time, first come first served, with at most 10 waiting", async () => {
  const h = heldService();
  const puller = new SerialImagePuller(h.service, new FakeClock(0));
  const names = Array.from({ length: 12 }, (_, i) => `img${i}`);
  const done: string[] = [];
  const all = names.map((n) => puller.pullImage({ spec: { image: n }, credentials: [] }).then((r) => {
    assert.equal(r.imageRef, `id-${n}`);
    assert.equal(r.imageSize, 42);
    done.push(n);
  }));
  await tick();
  assert.deepEqual(h.started, ["img0"]);
  assert.equal(puller.queued, 10, "img1..img10 queued, img11 waits for room");
  for (const n of names) {
    while (!h.started.includes(n)) await tick();
    h.finish(n);
  }
  await Promise.all(all);
  assert.deepEqual(h.started, names);
  assert.deepEqual(done, names);
});

test("the parallel puller starts every pull at once, or as many as it has tokens", async () => {
  const unlimited = heldService();
  const p = new ParallelImagePuller(unlimited.service, new FakeClock(0));
  const a = ["x", "y", "z"].map((n) => p.pullImage({ spec: { image: n }, credentials: [] }));
  await tick();
  assert.deepEqual(unlimited.started, ["x", "y", "z"]);
  for (const n of ["z", "y", "x"]) unlimited.finish(n);
  await Promise.all(a);

  const two = heldService();
  const q = new ParallelImagePuller(two.service, new FakeClock(0), 2);
  const b = ["x", "y", "z"].map((n) => q.pullImage({ spec: { image: n }, credentials: [] }));
  await tick();
  assert.deepEqual(two.started, ["x", "y"]);
  two.finish("y");
  while (two.started.length < 3) await tick();
  assert.deepEqual(two.started, ["x", "y", "z"]);
  two.finish("z");
  two.finish("x");
  await Promise.all(b);
});

const cred = (username: string): TrackedAuthConfig => ({ username, password: "pw", authConfigHash: username });

test("credentials are tried in order until one works; all failing gives every error, as Go aggregates them", async () => {
  const calls: (string | undefined)[] = [];
  const svc = (fail: (user: string | undefined) => Error | undefined): ImageService => ({
    listImages: () => Promise.resolve([]),
    imageStatus: () => Promise.reject(new Error("no status")),
    removeImage: () => Promise.resolve(),
    imageFsInfo: () => Promise.resolve({ imageFilesystems: [], containerFilesystems: [] }),
    pullImage: (_spec, auth) => {
      calls.push(auth?.username);
      const err = fail(auth?.username);
      return err ? Promise.reject(err) : Promise.resolve({ imageRef: "sha256:abc" });
    },
  });
  const clock = new FakeClock(0);
  const ok = await pullWithCredentials(svc((u) => (u === "good" ? undefined : new UnauthenticatedError("401 unauthorized"))), clock, {
    spec: { image: "reg/app:v1" }, credentials: [cred("bad"), cred("good"), cred("never")],
  });
  assert.deepEqual(calls, ["bad", "good"]);
  assert.equal(ok.credentialUsed?.username, "good");
  assert.equal(ok.imageSize, 0, "size unknown: 0");

  const bad = await pullWithCredentials(svc((u) => (u === "a" ? new UnauthenticatedError("401 unauthorized") : new NotFoundError("manifest unknown"))), clock, {
    spec: { image: "reg/app:v1" }, credentials: [cred("a"), cred("b"), cred("c")],
  });
  assert.equal(bad.error?.message, "[401 unauthorized, rpc error: code = NotFound desc = manifest unknown]");
  const one = await pullWithCredentials(svc(() => new Error("connect ECONNREFUSED 127.0.0.1:9")), clock, { spec: { image: "reg/app:v1" }, credentials: [] });
  assert.equal(one.error?.message, "dial tcp 127.0.0.1:9: connect: connection refused");
});

test("the token bucket starts full and refills at the QPS rate", () => {
  const clock = new FakeClock(0);
  const b = new TokenBucket(2, 3, clock);
  assert.deepEqual([b.tryAccept(), b.tryAccept(), b.tryAccept(), b.tryAccept()], [true, true, true, false]);
  clock.step(499);
  assert.equal(b.tryAccept(), false);
  clock.step(1);
  assert.equal(b.tryAccept(), true);
  clock.step(10_000);
  assert.deepEqual([b.tryAccept(), b.tryAccept(), b.tryAccept(), b.tryAccept()], [true, true, true, false], "never more than the burst");
});
