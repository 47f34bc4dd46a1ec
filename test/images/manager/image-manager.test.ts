/**
 * The kubelet's image manager against a real registry and a real node: pull policies, events and
 * messages, back-off, serial and parallel pulls, one pull for many pods, private images.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import type { Secret } from "../../../src/api/index.js";
import { FakeClock } from "../../../src/clock/index.js";
import { CriImageService, KubeletImageManager, type ImageManagerConfig, type ImageService } from "../../../src/images/index.js";
import { BasicAuthorizer, Htpasswd } from "../../../src/registry/server/index.js";
import { buildTestImage, openTestNode, pushLayout, type TestNode } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { ensure, eventLog, holdingProxy, makePod, requestLog } from "./fixtures.js";

let reg: TestRegistry;
let priv: TestRegistry;
let image: Awaited<ReturnType<typeof buildTestImage>>;
let host: string;
let privHost: string;
let size: number;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

before(async () => {
  reg = await startRegistry();
  host = new URL(reg.url).host;
  priv = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: Htpasswd.parse(`alice:${bcrypt.hashSync("wonderland", 4)}\n`), realm: "podyard" }) });
  privHost = new URL(priv.url).host;
  image = await buildTestImage();
  for (const repo of ["pods/busybox", "pods/a", "pods/b", "pods/c"]) await pushLayout(reg.url, repo, "v1", image);
  await pushLayout(reg.url, "pods/busybox", "latest", image);
  await pushLayout(priv.url, "team/secret", "v1", image, { credentials: { username: "alice", password: "wonderland" } });
  size = image.manifest.config.size + image.manifest.layers.reduce((n, l) => n + l.size, 0);
});
after(async () => {
  await reg.close();
  await priv.close();
  await image.cleanup();
});

interface Setup {
  node: TestNode;
  cri: ImageService;
  clock: FakeClock;
  manager(config?: ImageManagerConfig, service?: ImageService): KubeletImageManager;
}

async function setUp(t: { after(fn: () => Promise<void>): void }): Promise<Setup> {
  const node = await openTestNode();
  t.after(() => node.close());
  const clock = new FakeClock(Date.UTC(2026, 11, 3, 12));
  const cri = new CriImageService({ images: node.env.imageService, contentDir: node.env.content.root, snapshotsDir: node.env.snapshotter.root, clock });
  return {
    node, cri, clock,
    manager: (config = {}, service = cri) => new KubeletImageManager({ imageService: service, config, clock, stateDir: join(node.home, "kubelet") }),
  };
}

function dockerSecret(name: string, registry: string, user: string, password: string): Secret {
  return {
    apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    data: { ".dockerconfigjson": b64(JSON.stringify({ auths: { [registry]: { auth: b64(`${user}:${password}`) } } })) },
  };
}

test("IfNotPresent pulls an absent image with Pulling and Pulled events, then uses it without asking the registry", async (t) => {
  const s = await setUp(t);
  const m = s.manager();
  const ref = `${host}/pods/busybox:v1`;
  const first = await ensure(m, makePod("p1"), ref);
  assert.deepEqual(first, { ok: true, imageRef: image.manifest.config.digest, message: "", events: [
    `Normal Pulling Pulling image "${ref}"`,
    `Normal Pulled Successfully pulled image "${ref}" in 0s (0s including waiting). Image size: ${size} bytes.`,
  ] });
  const log = requestLog(reg);
  const again = await ensure(m, makePod("p2"), ref);
  const msg = `Container image "${ref}" already present on machine and can be accessed by the pod`;
  assert.deepEqual(again, { ok: true, imageRef: image.manifest.config.digest, message: msg, events: [`Normal Pulled ${msg}`] });
  assert.deepEqual(log, [], "no request reached the registry");

  const gateOff = s.manager({ ensureSecretPulledImages: false });
  const plain = await ensure(gateOff, makePod("p3"), ref);
  assert.deepEqual(plain.events, [`Normal Pulled Container image "${ref}" already present on machine`]);
  assert.deepEqual(log, []);
});

test("Always with an unchanged digest asks for the manifest but downloads no layer; the default tag is added for the CRI only", async (t) => {
  const s = await setUp(t);
  const m = s.manager();
  const ref = `${host}/pods/busybox`;
  assert.equal((await ensure(m, makePod("p1"), ref)).ok, true, "no tag: Always by default");
  const log = requestLog(reg);
  const res = await ensure(m, makePod("p1"), ref);
  assert.equal(res.ok, true);
  assert.deepEqual(res.events.map((e) => e.split(" in ")[0]), [`Normal Pulling Pulling image "${ref}"`, `Normal Pulled Successfully pulled image "${ref}"`]);
  assert.ok(log.some((l) => /manifests\/latest$/.test(l)), `the manifest was asked for: ${log.join(", ")}`);
  assert.deepEqual(log.filter((l) => l.startsWith("GET") && l.includes("/blobs/")), [], "no blob was downloaded");
});

test("Never: absent is ErrImageNeverPull with the kubelet's text; present is used", async (t) => {
  const s = await setUp(t);
  const m = s.manager();
  const ref = `${host}/pods/busybox:v1`;
  const log = requestLog(reg);
  const msg = `Container image "${ref}" is not present with pull policy of Never`;
  assert.deepEqual(await ensure(m, makePod("p1"), ref, { policy: "Never" }), { ok: false, reason: "ErrImageNeverPull", message: msg, events: [`Warning ErrImageNeverPull ${msg}`] });
  assert.deepEqual(log, []);
  await ensure(m, makePod("p1"), ref);
  const present = await ensure(m, makePod("p2"), ref, { policy: "Never" });
  assert.equal(present.ok, true);
  assert.deepEqual(present.events, [`Normal Pulled Container image "${ref}" already present on machine and can be accessed by the pod`]);
});

test("an unparsable image is InvalidImageName with an InspectFailed event", async (t) => {
  const s = await setUp(t);
  const res = await ensure(s.manager(), makePod("p1"), "Nginx");
  const msg = 'Failed to apply default image tag "Nginx": couldn\'t parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase';
  assert.deepEqual(res, { ok: false, reason: "InvalidImageName", message: msg, events: [`Warning InspectFailed ${msg}`] });
});

test("a missing tag is ErrImagePull carrying the registry's answer, as a NotFound CRI error", async (t) => {
  const s = await setUp(t);
  const ref = `${host}/pods/busybox:nope`;
  const res = await ensure(s.manager(), makePod("p1"), ref);
  assert.equal(res.ok, false);
  assert.equal(res.ok === false && res.reason, "ErrImagePull");
  assert.match(res.message, /^rpc error: code = NotFound desc = .*manifest unknown/);
  assert.deepEqual(res.events, [`Normal Pulling Pulling image "${ref}"`, `Warning Failed Failed to pull image "${ref}": ${res.message}`]);
});

test("a registry that is down: ErrImagePull (connection refused), then ImagePullBackOff for 10, 20, 40, 80, 160, 300, 300 s; forgotten after 600 s", async (t) => {
  const s = await setUp(t);
  const down = await startRegistry();
  const downHost = new URL(down.url).host;
  await down.close();
  const m = s.manager({ registryPullQPS: 0 });
  const pod = makePod("p1");
  const ref = `${downHost}/pods/busybox:v1`;

  const first = await ensure(m, pod, ref);
  assert.equal(first.ok === false && first.reason, "ErrImagePull");
  assert.match(first.message, new RegExp(`dial tcp ${downHost}: connect: connection refused`));
  assert.deepEqual(first.events, [`Normal Pulling Pulling image "${ref}"`, `Warning Failed Failed to pull image "${ref}": ${first.message}`]);
  const pullError = first.message;

  const periods: number[] = [];
  for (let round = 0; round < 7; round++) {
    // Step one second at a time until a pull is attempted again, as the pod worker's retries would.
    let waited = 0;
    for (;;) {
      const r = await ensure(m, pod, ref);
      if (r.ok === false && r.reason === "ImagePullBackOff") {
        const msg = `Back-off pulling image "${ref}"`;
        assert.deepEqual(r.events, [`Normal BackOff ${msg}`]);
        assert.equal(r.message, `${msg}: ErrImagePull: ${pullError}`);
        s.clock.step(1000);
        waited += 1;
        continue;
      }
      assert.equal(r.ok === false && r.reason, "ErrImagePull", "the retry pulls again and fails");
      break;
    }
    periods.push(waited);
  }
  assert.deepEqual(periods, [10, 20, 40, 80, 160, 300, 300]);
  assert.equal(m.backOff.get(`p1_${ref}`), 300_000);
  s.clock.step(600_000 + 1);
  const fresh = await ensure(m, pod, ref);
  assert.equal(fresh.ok === false && fresh.reason, "ErrImagePull", "after 600 s quiet: a pull, not a back-off");
  assert.equal(m.backOff.get(`p1_${ref}`), 10_000, "and the ladder starts again at 10 s");
  const other = await ensure(m, makePod("p2"), ref);
  assert.equal(other.ok === false && other.reason, "ErrImagePull", "another pod has its own back-off");
});

test("the registry QPS throttle refuses pulls beyond the burst with 'pull QPS exceeded'", async (t) => {
  const s = await setUp(t);
  const m = s.manager({ registryPullQPS: 1, registryBurst: 1 });
  assert.equal((await ensure(m, makePod("p1"), `${host}/pods/a:v1`)).ok, true);
  const res = await ensure(m, makePod("p2"), `${host}/pods/b:v1`);
  assert.deepEqual(res.ok === false && [res.reason, res.message], ["ErrImagePull", "pull QPS exceeded"]);
  s.clock.step(1000);
  assert.equal((await ensure(m, makePod("p3"), `${host}/pods/c:v1`)).ok, true, "a second later there is a token again");
});

interface OrderRun {
  proxy: Awaited<ReturnType<typeof holdingProxy>>;
  finished: string[];
  /** Resolves when pod `name`'s pull has finished. */
  done(name: string): Promise<void>;
  /** Resolves once `n` repositories have had manifest requests held. */
  arrivals(n: number): Promise<string[]>;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

/**
 * Three pods (a, b, c) pull three images at once through a proxy that holds each repository's
 * manifest requests until the scenario lets them through. Which pod reaches the puller first is
 * up to the event loop, so scenarios go by the order the registry saw.
 */
async function pullScenario(config: ImageManagerConfig, scenario: (run: OrderRun) => Promise<void>): Promise<void> {
  const node = await openTestNode();
  const proxy = await holdingProxy(reg.url);
  try {
    const clock = new FakeClock(0);
    const cri = new CriImageService({ images: node.env.imageService, contentDir: node.env.content.root, snapshotsDir: node.env.snapshotter.root, clock });
    const m = new KubeletImageManager({ imageService: cri, config: { registryPullQPS: 0, ...config }, clock, stateDir: join(node.home, "kubelet") });
    const finished: string[] = [];
    const pulls = new Map(["a", "b", "c"].map((name) => [name, ensure(m, makePod(name), `${proxy.host}/pods/${name}:v1`).then((r) => {
      assert.equal(r.ok, true, JSON.stringify(r));
      finished.push(name);
    })]));
    const arrivals = async (n: number): Promise<string[]> => {
      while (proxy.arrivals.length < n) await new Promise((resolve) => setTimeout(resolve, 10));
      return proxy.arrivals.map((r) => r.replace("pods/", ""));
    };
    await scenario({ proxy, finished, done: (name) => pulls.get(name) ?? Promise.resolve(), arrivals });
    await Promise.all(pulls.values());
  } finally {
    await proxy.close();
    await node.close();
  }
}

test("serial pulls (the default): one at a time across pods; the waiting ones cannot overtake", async () => {
  await pullScenario({}, async (run) => {
    const [first] = await run.arrivals(1);
    await settle();
    assert.deepEqual(run.proxy.arrivals.length, 1, "the others wait in the queue while the first is held");
    const others = ["a", "b", "c"].filter((n) => n !== first);
    for (const n of others) run.proxy.release(`pods/${n}`);
    await settle();
    assert.deepEqual(run.finished, [], "let through at the registry, they still wait their turn");
    run.proxy.release(`pods/${first ?? ""}`);
    for (const n of ["a", "b", "c"]) await run.done(n);
    assert.equal(run.finished[0], first);
    assert.deepEqual(run.finished, await run.arrivals(3), "each pull reached the registry only after the one before finished");
  });
});

test("parallel pulls: all three pods pull at once and finish as the registry answers", async () => {
  await pullScenario({ serializeImagePulls: false }, async (run) => {
    const arrived = await run.arrivals(3);
    const order = [...arrived].reverse();
    for (const n of order) {
      run.proxy.release(`pods/${n}`);
      await run.done(n);
    }
    assert.deepEqual(run.finished, order);
  });
});

test("parallel pulls with 2 tokens: the third waits for a token", async () => {
  await pullScenario({ serializeImagePulls: false, maxParallelImagePulls: 2 }, async (run) => {
    const [x = "", y = ""] = await run.arrivals(2);
    await settle();
    assert.equal(run.proxy.arrivals.length, 2, "the third pull holds no token");
    const z = ["a", "b", "c"].find((n) => n !== x && n !== y) ?? "";
    run.proxy.release(`pods/${z}`);
    run.proxy.release(`pods/${y}`);
    await run.done(y);
    await run.done(z);
    assert.deepEqual(run.finished, [y, z], "the third got the freed token and finished while the first is still held");
    run.proxy.release(`pods/${x}`);
    await run.done(x);
    assert.deepEqual(run.finished, [y, z, x]);
  });
});

test("many pods wanting one image at once: one pull, every pod gets its events", async (t) => {
  const s = await setUp(t);
  const m = s.manager({ serializeImagePulls: false, registryPullQPS: 0 });
  const ref = `${host}/pods/busybox:v1`;
  const log = requestLog(reg);
  const results = await Promise.all(["p1", "p2", "p3", "p4", "p5"].map((uid) => ensure(m, makePod(uid), ref)));
  for (const r of results) {
    assert.equal(r.ok, true);
    assert.deepEqual(r.events.map((e) => e.split(" ").slice(0, 2).join(" ")), ["Normal Pulling", "Normal Pulled"]);
  }
  assert.equal(log.filter((l) => l.startsWith("GET") && l.includes("/manifests/")).length, 1, log.join("\n"));
});

test("a private image: pulled with a pod's secret, not handed to a pod without it, handed to a pod with the same login, also after a restart", async (t) => {
  const s = await setUp(t);
  const ref = `${privHost}/team/secret:v1`;
  const good = dockerSecret("regcred", privHost, "alice", "wonderland");
  const m = s.manager();

  const anonymous = await ensure(m, makePod("nobody"), ref);
  assert.equal(anonymous.ok === false && anonymous.reason, "ErrImagePull");
  assert.match(anonymous.message, /unauthorized|authentication required/i);

  const wrong = await ensure(m, makePod("wrong"), ref, { secrets: [dockerSecret("bad", privHost, "alice", "nope"), good] });
  assert.equal(wrong.ok, true, "credentials are tried in order until one works");

  const withSecret = await ensure(m, makePod("a"), ref, { secrets: [good] });
  assert.equal(withSecret.ok, true);
  assert.deepEqual(withSecret.events, [`Normal Pulled Container image "${ref}" already present on machine and can be accessed by the pod`]);

  const log = requestLog(priv);
  const without = await ensure(m, makePod("b"), ref);
  assert.equal(without.ok === false && without.reason, "ErrImagePull", "pod b must prove access: it pulls, and the registry refuses");
  assert.match(without.message, /unauthorized|authentication required/i);
  assert.ok(log.some((l) => l.includes("/manifests/")), "b's pull went to the registry");
  const never = await ensure(m, makePod("c"), ref, { policy: "Never" });
  assert.equal(never.ok === false && never.message, `Container image "${ref}" is not present with pull policy of Never`, "presence is not revealed");

  const sameLogin = dockerSecret("copy", privHost, "alice", "wonderland");
  log.length = 0;
  const copy = await ensure(m, makePod("d"), ref, { secrets: [sameLogin] });
  assert.equal(copy.ok, true, "an equal login in another secret proves access");
  assert.deepEqual(log, []);

  const restarted = s.manager();
  const afterRestart = await ensure(restarted, makePod("e"), ref);
  assert.equal(afterRestart.ok, false, "the records survive a restart");
  assert.equal((await ensure(restarted, makePod("f"), ref, { secrets: [good] })).ok, true);

  const lax = s.manager({ imagePullCredentialsVerificationPolicy: "NeverVerify" });
  assert.equal((await ensure(lax, makePod("g"), ref)).ok, true, "NeverVerify hands any present image to any pod");
});

test("NeverVerifyPreloadedImages: an image the kubelet did not pull is usable by every pod; AlwaysVerify checks it too", async (t) => {
  const s = await setUp(t);
  const ref = `${host}/pods/busybox:v1`;
  await s.cri.pullImage({ image: ref });
  const log = requestLog(reg);
  assert.equal((await ensure(s.manager(), makePod("p1"), ref)).ok, true);
  assert.deepEqual(log, []);
  const strict = await ensure(s.manager({ imagePullCredentialsVerificationPolicy: "AlwaysVerify" }), makePod("p2"), ref);
  assert.equal(strict.ok, true, "the anonymous re-pull proves access");
  assert.deepEqual(strict.events.map((e) => e.split(" ")[1]), ["Pulling", "Pulled"]);
});

test("an invalid configuration is refused when the manager is made", async (t) => {
  const s = await setUp(t);
  assert.throws(() => s.manager({ maxParallelImagePulls: 0 }), /maxParallelImagePulls 0 must be a positive number/);
  const events = eventLog();
  assert.deepEqual(events.list, []);
});

test("node credentials (the node keyring) pull a private image for a pod without secrets; then every pod may use it", async (t) => {
  const s = await setUp(t);
  const ref = `${privHost}/team/secret:v1`;
  const m = new KubeletImageManager({
    imageService: s.cri, clock: s.clock, stateDir: join(s.node.home, "kubelet"),
    nodeCredentials: () => Promise.resolve({ [`http://${privHost}/v2/`]: { username: "alice", password: "wonderland" } }),
  });
  const first = await ensure(m, makePod("a"), ref);
  assert.equal(first.ok, true, JSON.stringify(first));
  const log = requestLog(priv);
  const other = await ensure(m, makePod("b"), ref);
  assert.deepEqual(other.events, [`Normal Pulled Container image "${ref}" already present on machine and can be accessed by the pod`]);
  assert.deepEqual(log, []);
  const noNodeLogin = await ensure(s.manager(), makePod("c"), ref);
  assert.equal(noNodeLogin.ok, true, "pulled with node credentials: node-wide, also for a manager without them");
});
