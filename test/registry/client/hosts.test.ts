import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorClass, isInvalidArgument, isNotFound } from "../../../src/errdefs/index.js";
import { digestOf } from "../../../src/oci/index.js";
import { parseNormalizedNamed } from "../../../src/reference/index.js";
import { RegistryHosts, Resolver, type HostsConfig, type RegistryEndpoint } from "../../../src/registry/client/index.js";
import { createTokenAuth } from "../../../src/registry/server/index.js";
import { pushImage, startRegistry } from "../../helpers/registry.js";
import { collect, deadHost } from "./fixtures.js";

const summary = (eps: RegistryEndpoint[]): string[] => eps.map((e) => `${e.mirror ? "mirror" : "upstream"} ${e.baseUrl.href} ${e.host} creds:${e.credentialsHost}`);

test("endpoints: defaults without configuration", () => {
  const hosts = new RegistryHosts();
  assert.deepEqual(summary(hosts.endpoints("docker.io", "pull")), ["upstream https://registry-1.docker.io/ docker.io creds:docker.io"]);
  assert.deepEqual(summary(hosts.endpoints("quay.io", "push")), ["upstream https://quay.io/ quay.io creds:quay.io"]);
  // plain HTTP for localhost, 127.0.0.0/8 and ::1
  for (const host of ["localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "localhost"]) {
    const [ep] = hosts.endpoints(host, "pull");
    assert.equal(ep?.baseUrl.protocol, "http:", host);
    assert.equal(ep?.mirror, false);
  }
  assert.equal(hosts.endpoints("10.0.0.1:5000", "pull")[0]?.baseUrl.protocol, "https:");
  assert.equal(hosts.endpoints("128.0.0.1:5000", "pull")[0]?.baseUrl.protocol, "https:");
});

test("endpoints: mirrors in order for pulls, by capability; pushes go upstream only", () => {
  const hosts = new RegistryHosts({
    "docker.io": {
      mirrors: [
        { url: "https://mirror-a.example.com" },
        { url: "mirror-b.example.com:5000", capabilities: ["pull"] },
        { url: "127.0.0.1:5001", capabilities: ["resolve"], credentials: { username: "ci", password: "pw" } },
        { url: "http://mirror-c.example.com/v2/", insecure: false },
        { url: "mirror-d.example.com", insecure: true, skipVerify: true },
      ],
    },
    "registry.internal:5000": { insecure: true },
    "secure.local": { insecure: false, skipVerify: true },
  });
  assert.deepEqual(summary(hosts.endpoints("docker.io", "pull")), [
    "mirror https://mirror-a.example.com/ mirror-a.example.com creds:mirror-a.example.com",
    "mirror https://mirror-b.example.com:5000/ mirror-b.example.com:5000 creds:mirror-b.example.com:5000",
    "mirror http://mirror-c.example.com/ mirror-c.example.com creds:mirror-c.example.com",
    "mirror http://mirror-d.example.com/ mirror-d.example.com creds:mirror-d.example.com",
    "upstream https://registry-1.docker.io/ docker.io creds:docker.io",
  ]);
  assert.deepEqual(summary(hosts.endpoints("docker.io", "resolve")), [
    "mirror https://mirror-a.example.com/ mirror-a.example.com creds:mirror-a.example.com",
    "mirror http://127.0.0.1:5001/ 127.0.0.1:5001 creds:127.0.0.1:5001",
    "mirror http://mirror-c.example.com/ mirror-c.example.com creds:mirror-c.example.com",
    "mirror http://mirror-d.example.com/ mirror-d.example.com creds:mirror-d.example.com",
    "upstream https://registry-1.docker.io/ docker.io creds:docker.io",
  ]);
  assert.deepEqual(summary(hosts.endpoints("docker.io", "push")), ["upstream https://registry-1.docker.io/ docker.io creds:docker.io"]);
  // Docker Hub's other names find the same settings
  assert.equal(hosts.endpoints("index.docker.io", "pull").length, 5);
  const resolveEps = hosts.endpoints("docker.io", "resolve");
  assert.deepEqual(resolveEps[1]?.credentials, { username: "ci", password: "pw" });
  assert.equal(resolveEps[3]?.skipVerify, true);
  assert.equal(hosts.endpoints("registry.internal:5000", "push")[0]?.baseUrl.href, "http://registry.internal:5000/");
  assert.equal(hosts.endpoints("secure.local", "pull")[0]?.baseUrl.href, "https://secure.local/");
  assert.equal(hosts.endpoints("secure.local", "pull")[0]?.skipVerify, true);
});

test("RegistryHosts.load: validation errors name the file and the field", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-hosts-"));
  try {
    const file = join(dir, "hosts.json");
    const cases: [unknown, string][] = [
      [[], `hosts configuration ${file}: want an object keyed by registry host`],
      [{ "https://docker.io": {} }, `hosts configuration ${file}: "https://docker.io": want a registry host such as "docker.io" or "127.0.0.1:5000", without scheme or path`],
      [{ "docker.io": { mirror: [] } }, `hosts configuration ${file}: "docker.io".mirror: unknown field; known fields are mirrors, insecure, skipVerify`],
      [{ "docker.io": { mirrors: {} } }, `hosts configuration ${file}: "docker.io".mirrors: want a list of mirrors`],
      [{ "docker.io": { mirrors: [{}] } }, `hosts configuration ${file}: "docker.io".mirrors[0].url: want a URL such as "https://mirror.example.com" or "127.0.0.1:5001"`],
      [{ "docker.io": { mirrors: [{ url: "ftp://m.example" }] } }, `hosts configuration ${file}: "docker.io".mirrors[0].url: "ftp://m.example" is not an http(s) URL`],
      [{ "docker.io": { mirrors: [{ url: "https://m.example/proxy/docker" }] } },
        `hosts configuration ${file}: "docker.io".mirrors[0].url: "https://m.example/proxy/docker" has a path; mirrors serve the API at /v2/ of their host`],
      [{ "docker.io": { mirrors: [{ url: "https://u:p@m.example" }] } }, `hosts configuration ${file}: "docker.io".mirrors[0].url: credentials do not belong in the URL; use "credentials"`],
      [{ "docker.io": { mirrors: [{ url: "m.example", capabilities: ["pull", "push"] }] } },
        `hosts configuration ${file}: "docker.io".mirrors[0].capabilities[1]: "push": mirrors do not take pushes; pushes go to the registry itself`],
      [{ "docker.io": { mirrors: [{ url: "m.example", capabilities: [] }] } }, `hosts configuration ${file}: "docker.io".mirrors[0].capabilities: want a non-empty list of "pull", "resolve"`],
      [{ "docker.io": { mirrors: [{ url: "m.example", insecure: "yes" }] } }, `hosts configuration ${file}: "docker.io".mirrors[0].insecure: want true or false, got "yes"`],
      [{ "docker.io": { mirrors: [{ url: "m.example", credentials: { username: "u" } }] } }, `hosts configuration ${file}: "docker.io".mirrors[0].credentials.password: want a string`],
      [{ "q.io": { insecure: 1 } }, `hosts configuration ${file}: "q.io".insecure: want true or false, got 1`],
      [{ "docker.io": {}, "index.docker.io": {} }, `hosts configuration ${file}: "index.docker.io": names the same registry as another entry (docker.io)`],
    ];
    for (const [config, message] of cases) {
      await writeFile(file, JSON.stringify(config));
      await assert.rejects(RegistryHosts.load(file), (err: Error) => isInvalidArgument(err) && err.message === message, message);
    }
    await writeFile(file, "{ nope");
    await assert.rejects(RegistryHosts.load(file), (err: Error) => isInvalidArgument(err) && err.message.startsWith(`hosts configuration ${file}: not valid JSON`));
    await assert.rejects(RegistryHosts.load(join(dir, "absent.json")), (err: Error) =>
      isNotFound(err) && err.message === `hosts configuration ${join(dir, "absent.json")} does not exist`);
    await writeFile(file, JSON.stringify({ "docker.io": { mirrors: [{ url: "127.0.0.1:5001" }] } }));
    assert.equal((await RegistryHosts.load(file)).endpoints("docker.io", "pull")[0]?.baseUrl.href, "http://127.0.0.1:5001/");
    // an injected object is checked the same way
    assert.throws(() => new RegistryHosts({ "docker.io": { mirrors: [{ url: 5 }] } } as unknown as HostsConfig), (err: Error) =>
      isInvalidArgument(err) && err.message.startsWith("hosts configuration (given): \"docker.io\".mirrors[0].url:"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("pull: first mirror down, second mirror serves; blobs come from the mirror that served the manifest", async () => {
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  try {
    const img = await pushImage(mirror.url, "team/app", "v1", ["layer-a", "layer-b"]);
    const dead = await deadHost();
    const upstreamHost = new URL(upstream.url).host;
    const mirrorHost = new URL(mirror.url).host;
    const hosts = new RegistryHosts({ [upstreamHost]: { mirrors: [{ url: `http://${dead}` }, { url: mirror.url }] } });
    const puller = new Resolver({ hosts }).puller(parseNormalizedNamed(`${upstreamHost}/team/app:v1`));
    const desc = await puller.resolve();
    assert.equal(desc.digest, img.digest);
    assert.equal(puller.servedBy?.host, mirrorHost);
    assert.equal(puller.servedBy?.mirror, true);
    const m = await puller.getManifest(img.digest);
    assert.ok(m.bytes.equals(img.manifest));
    for (const [digest, content] of [[img.layers[0], "layer-a"], [img.layers[1], "layer-b"]] as const) {
      assert.ok(digest);
      assert.equal((await collect(await puller.fetchBlob(digest))).toString(), content);
    }
  } finally {
    await mirror.close();
    await upstream.close();
  }
});

test("pull: a mirror without the image passes over to the upstream", async () => {
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  try {
    const img = await pushImage(upstream.url, "team/app", "v2", ["only-upstream"]);
    const upstreamHost = new URL(upstream.url).host;
    const hosts = new RegistryHosts({ [upstreamHost]: { mirrors: [{ url: mirror.url }] } });
    const puller = new Resolver({ hosts }).puller(parseNormalizedNamed(`${upstreamHost}/team/app:v2`));
    assert.equal((await puller.resolve()).digest, img.digest);
    assert.equal(puller.servedBy?.mirror, false);
    assert.equal(puller.servedBy?.host, upstreamHost);
    const layer = img.layers[0];
    assert.ok(layer);
    assert.equal((await collect(await puller.fetchBlob(layer))).toString(), "only-upstream");
    assert.equal(digestOf(Buffer.from("only-upstream")), layer);

    // neither has it: NotFound naming the reference and the upstream, and what the mirror said
    const missing = new Resolver({ hosts }).puller(parseNormalizedNamed(`${upstreamHost}/team/app:nope`));
    await assert.rejects(missing.resolve(), (err: Error) => {
      assert.ok(isNotFound(err), err.message);
      assert.ok(err.message.startsWith(`pull ${upstreamHost}/team/app:nope: manifest unknown: registry ${upstreamHost} has no manifest for team/app:nope`), err.message);
      assert.match(err.message, new RegExp(`\\(also tried .*registry ${new URL(mirror.url).host.replace(/\./g, "\\.")} has no manifest`));
      return true;
    });
  } finally {
    await mirror.close();
    await upstream.close();
  }
});

test("pull: a registry whose token server is out of reach is not called unreachable; the token server is named", async () => {
  const dead = await deadHost();
  const auth = createTokenAuth({ realm: `http://${dead}/auth/token`, service: "podyard-test", anonymousPull: true });
  const reg = await startRegistry({ authorizer: auth.authorizer });
  try {
    const host = new URL(reg.url).host;
    const puller = new Resolver({ maxAttempts: 1 }).puller(parseNormalizedNamed(`${host}/app:v1`));
    await assert.rejects(puller.resolve(), (err: Error) => {
      assert.equal(errorClass(err), "Unavailable");
      assert.equal(err.message, `pull ${host}/app:v1: cannot reach token server ${dead} for registry ${host}: connect ECONNREFUSED ${dead}`);
      return true;
    });
  } finally {
    await reg.close();
  }
});

test("pull: an unreachable registry is named in the error", async () => {
  const dead = await deadHost();
  const puller = new Resolver({ maxAttempts: 1 }).puller(parseNormalizedNamed(`${dead}/app:v1`));
  await assert.rejects(puller.resolve(), (err: Error) => {
    assert.equal(errorClass(err), "Unavailable");
    assert.equal(err.message, `pull ${dead}/app:v1: registry ${dead} is unreachable: connect ECONNREFUSED ${dead}`);
    return true;
  });
});
