import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { errorClass, isInvalidArgument } from "../../../src/errdefs/index.js";
import {
  CredentialChain,
  CredentialHelper,
  CredentialStore,
  decodeAuthEntry,
  defaultCredentialProvider,
  DockerConfigProvider,
  dockerConfigPath,
  findRegistryKey,
  registryKeyHost,
  type CredentialProvider,
} from "../../../src/registry/client/index.js";
import { podyardHome } from "../../../src/fsutil/index.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-creds-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Writes `docker-credential-test` into `dir`: a helper keeping its credentials in
 * `dir/store.json` and logging each call to `dir/calls.log`. Server URLs `slow.example`
 * hang and `broken.example` fail.
 */
async function fakeHelper(dir: string, initial: Record<string, { Username: string; Secret: string }> = {}): Promise<NodeJS.ProcessEnv> {
  const script = `#!${process.execPath}
const fs = require("node:fs");
const path = require("node:path");
const dir = path.dirname(process.argv[1]);
const storePath = path.join(dir, "store.json");
const action = process.argv[2];
let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  fs.appendFileSync(path.join(dir, "calls.log"), action + " " + input.trim() + "\\n");
  const store = JSON.parse(fs.readFileSync(storePath, "utf8"));
  const notFound = () => { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); };
  if (input.trim() === "slow.example") { setTimeout(() => {}, 60000); return; }
  if (input.trim() === "broken.example") { process.stdout.write("keychain is locked\\n"); process.exit(1); }
  if (action === "get") {
    const c = store[input.trim()];
    if (!c) return notFound();
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: c.Username, Secret: c.Secret }));
  } else if (action === "store") {
    const c = JSON.parse(input);
    store[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
    fs.writeFileSync(storePath, JSON.stringify(store));
  } else if (action === "erase") {
    if (!store[input.trim()]) return notFound();
    delete store[input.trim()];
    fs.writeFileSync(storePath, JSON.stringify(store));
  } else {
    process.stdout.write("unknown action\\n");
    process.exit(1);
  }
});
`;
  const file = join(dir, "docker-credential-test");
  await writeFile(file, script);
  await chmod(file, 0o755);
  await writeFile(join(dir, "store.json"), JSON.stringify(initial));
  await writeFile(join(dir, "calls.log"), "");
  return { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ""}` };
}

async function calls(dir: string): Promise<string[]> {
  return (await readFile(join(dir, "calls.log"), "utf8")).split("\n").filter((l) => l !== "");
}

async function dockerConfig(dir: string, config: unknown): Promise<string> {
  const path = join(dir, "config.json");
  await writeFile(path, typeof config === "string" ? config : JSON.stringify(config));
  return path;
}

test("registryKeyHost and findRegistryKey compare hosts like docker does", () => {
  const table: [string, string][] = [
    ["https://index.docker.io/v1/", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["https://registry.hub.docker.com", "docker.io"],
    ["docker.io", "docker.io"],
    ["http://127.0.0.1:5000", "127.0.0.1:5000"],
    ["https://Quay.io/v1/", "quay.io"],
    ["registry.example.com:5000/team/project", "registry.example.com:5000"],
    ["[::1]:5000", "[::1]:5000"],
  ];
  for (const [key, host] of table) assert.equal(registryKeyHost(key), host, key);
  assert.equal(findRegistryKey(["docker.io", "https://index.docker.io/v1/"], "docker.io"), "docker.io");
  assert.equal(findRegistryKey(["index.docker.io", "https://index.docker.io/v1/"], "docker.io"), "https://index.docker.io/v1/");
  assert.equal(findRegistryKey(["quay.io", "http://127.0.0.1:5000"], "127.0.0.1:5000"), "http://127.0.0.1:5000");
  assert.equal(findRegistryKey(["127.0.0.1:5001"], "127.0.0.1:5000"), undefined);
  assert.equal(findRegistryKey(["myhostdocker.io"], "docker.io"), undefined);
});

test("decodeAuthEntry: auth, username/password, identity token, errors", () => {
  assert.deepEqual(decodeAuthEntry({ auth: b64("alice:s3cr:et") }), { username: "alice", password: "s3cr:et" });
  assert.deepEqual(decodeAuthEntry({ auth: b64("bob:pw").replace(/=+$/, "") }), { username: "bob", password: "pw" });
  assert.deepEqual(decodeAuthEntry({ username: "carol", password: "pw" }), { username: "carol", password: "pw" });
  assert.deepEqual(decodeAuthEntry({ auth: b64("alice:pw"), identitytoken: "refresh-123" }), { username: "<token>", password: "refresh-123" });
  assert.equal(decodeAuthEntry({}), undefined);
  assert.equal(decodeAuthEntry({ email: "x@example.com" }), undefined);
  assert.throws(() => decodeAuthEntry({ auth: b64("no-colon") }, "config.json: auths[\"x\"]"), (err: Error) =>
    isInvalidArgument(err) && err.message === "config.json: auths[\"x\"]: unable to parse auth field, must be formatted as base64(username:password)");
  assert.throws(() => decodeAuthEntry({ auth: "!!!not base64" }), isInvalidArgument);
});

test("dockerConfigPath: $DOCKER_CONFIG or ~/.docker", () => {
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: "/etc/docker-client" }), "/etc/docker-client/config.json");
  assert.match(dockerConfigPath({}), /\.docker\/config\.json$/);
});

test("DockerConfigProvider: auths under every key form, Docker Hub's aliases", async () => {
  await withTempDir(async (dir) => {
    const hubForms = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io", "index.docker.io/v1/"];
    for (const key of hubForms) {
      const provider = new DockerConfigProvider({ path: await dockerConfig(dir, { auths: { [key]: { auth: b64("hub:pw") } } }) });
      for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
        assert.deepEqual(await provider.lookup(host), { username: "hub", password: "pw" }, `key ${key}, host ${host}`);
      }
      assert.equal(await provider.lookup("quay.io"), undefined);
    }
    const provider = new DockerConfigProvider({
      path: await dockerConfig(dir, {
        auths: {
          "http://127.0.0.1:5000": { username: "local", password: "pw1" },
          "registry.example.com:8443/some/path": { auth: b64("ex:pw2") },
          "https://ghcr.io": { identitytoken: "id-tok" },
          "empty.example": {},
        },
        HttpHeaders: { "X-Unrelated": "kept" },
      }),
    });
    assert.deepEqual(await provider.lookup("127.0.0.1:5000"), { username: "local", password: "pw1" });
    assert.equal(await provider.lookup("127.0.0.1:5001"), undefined);
    assert.deepEqual(await provider.lookup("registry.example.com:8443"), { username: "ex", password: "pw2" });
    assert.equal(await provider.lookup("registry.example.com"), undefined);
    assert.deepEqual(await provider.lookup("ghcr.io"), { username: "<token>", password: "id-tok" });
    assert.equal(await provider.lookup("empty.example"), undefined);
    assert.equal(await provider.lookup("docker.io"), undefined);
    // a missing file is an empty configuration
    assert.equal(await new DockerConfigProvider({ path: join(dir, "absent.json") }).lookup("docker.io"), undefined);
  });
});

test("DockerConfigProvider: errors name the file and the field", async () => {
  await withTempDir(async (dir) => {
    const path = await dockerConfig(dir, "{ not json");
    await assert.rejects(new DockerConfigProvider({ path }).lookup("docker.io"), (err: Error) =>
      isInvalidArgument(err) && err.message.startsWith(`docker config ${path}: not valid JSON`));
    await dockerConfig(dir, { auths: { "quay.io": { auth: 42 } } });
    await assert.rejects(new DockerConfigProvider({ path }).lookup("quay.io"), (err: Error) =>
      isInvalidArgument(err) && err.message === `docker config ${path}: auths["quay.io"].auth: want a string`);
    await dockerConfig(dir, { auths: { "quay.io": { auth: b64("nocolon") } } });
    await assert.rejects(new DockerConfigProvider({ path }).lookup("quay.io"), (err: Error) =>
      isInvalidArgument(err) &&
      err.message === `docker config ${path}: auths["quay.io"]: unable to parse auth field, must be formatted as base64(username:password)`);
    await dockerConfig(dir, { credHelpers: { "gcr.io": 7 } });
    await assert.rejects(new DockerConfigProvider({ path }).lookup("gcr.io"), (err: Error) =>
      isInvalidArgument(err) && err.message === `docker config ${path}: credHelpers["gcr.io"]: want a helper name`);
  });
});

test("CredentialHelper: get, store, erase through docker-credential-test on PATH", async () => {
  await withTempDir(async (dir) => {
    const env = await fakeHelper(dir, { "registry.example.com": { Username: "u1", Secret: "s1" } });
    const helper = new CredentialHelper("test", { env });
    assert.equal(helper.program, "docker-credential-test");
    assert.deepEqual(await helper.get("registry.example.com"), { username: "u1", password: "s1" });
    assert.equal(await helper.get("other.example.com"), undefined);
    await helper.store("https://index.docker.io/v1/", { username: "<token>", password: "refresh" });
    assert.deepEqual(await helper.get("https://index.docker.io/v1/"), { username: "<token>", password: "refresh" });
    await helper.erase("https://index.docker.io/v1/");
    assert.equal(await helper.get("https://index.docker.io/v1/"), undefined);
    await helper.erase("never-stored.example"); // nothing to erase is not an error
    assert.deepEqual(await calls(dir), [
      "get registry.example.com",
      "get other.example.com",
      'store {"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"refresh"}',
      "get https://index.docker.io/v1/",
      "erase https://index.docker.io/v1/",
      "get https://index.docker.io/v1/",
      "erase never-stored.example",
    ]);
  });
});

test("CredentialHelper: failures, a missing program, a timeout, a bad name", async () => {
  await withTempDir(async (dir) => {
    const env = await fakeHelper(dir);
    await assert.rejects(new CredentialHelper("test", { env }).get("broken.example"), (err: Error) =>
      errorClass(err) === "Unavailable" && err.message === "credential helper docker-credential-test failed to get credentials for broken.example (exit 1): keychain is locked");
    await assert.rejects(new CredentialHelper("nope", { env }).get("x.example"), (err: Error) =>
      errorClass(err) === "FailedPrecondition" &&
      err.message === "credential helper docker-credential-nope is not installed: no executable docker-credential-nope on PATH");
    await assert.rejects(new CredentialHelper("test", { env, timeoutMs: 300 }).get("slow.example"), (err: Error) =>
      errorClass(err) === "Unavailable" && err.message === "credential helper docker-credential-test did not finish get within 300 ms");
    assert.throws(() => new CredentialHelper("../evil"), isInvalidArgument);
  });
});

test("DockerConfigProvider: credHelpers for the host, then credsStore, then auths", async () => {
  await withTempDir(async (dir) => {
    const env = await fakeHelper(dir, {
      "gcr.io": { Username: "_json_key", Secret: "gcr-secret" },
      "https://index.docker.io/v1/": { Username: "hubuser", Secret: "hub-secret" },
      "127.0.0.1:5000": { Username: "<token>", Secret: "local-refresh" },
    });
    const path = await dockerConfig(dir, {
      auths: { "quay.io": { auth: b64("quayuser:quaypw") }, "127.0.0.1:5000": {} },
      credsStore: "test",
      credHelpers: { "gcr.io": "test", "broken.example": "test" },
    });
    const provider = new DockerConfigProvider({ path, env });
    assert.deepEqual(await provider.lookup("gcr.io"), { username: "_json_key", password: "gcr-secret" });
    assert.deepEqual(await provider.lookup("docker.io"), { username: "hubuser", password: "hub-secret" });
    assert.deepEqual(await provider.lookup("127.0.0.1:5000"), { username: "<token>", password: "local-refresh" });
    // the store has nothing for quay.io: the auths entry answers
    assert.deepEqual(await provider.lookup("quay.io"), { username: "quayuser", password: "quaypw" });
    assert.equal(await provider.lookup("nothing.example"), undefined);
    await assert.rejects(provider.lookup("broken.example"), (err: Error) =>
      errorClass(err) === "Unavailable" && err.message.startsWith(`docker config ${path}: credHelpers["broken.example"]: credential helper docker-credential-test failed`));
    assert.deepEqual(await calls(dir), [
      "get gcr.io",
      "get https://index.docker.io/v1/", // Docker Hub is asked for under the key docker login uses
      "get 127.0.0.1:5000",
      "get quay.io",
      "get nothing.example",
      "get broken.example",
    ]);
    // a credsStore whose program is missing is an error naming it
    const missing = await dockerConfig(dir, { credsStore: "desktop" });
    await assert.rejects(new DockerConfigProvider({ path: missing, env }).lookup("docker.io"), (err: Error) =>
      errorClass(err) === "FailedPrecondition" &&
      err.message === `docker config ${missing}: credsStore: credential helper docker-credential-desktop is not installed: no executable docker-credential-desktop on PATH`);
  });
});

test("CredentialStore: login writes auth.json with mode 0600, lookup and logout round trip", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "home", "auth.json");
    const store = new CredentialStore({ path });
    assert.equal(store.path, path);
    assert.equal(await store.lookup("127.0.0.1:5000"), undefined);
    await store.login("127.0.0.1:5000", { username: "alice", password: "wonder:land" });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "home"))).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { auths: { "127.0.0.1:5000": { auth: b64("alice:wonder:land") } } });
    assert.deepEqual(await store.lookup("127.0.0.1:5000"), { username: "alice", password: "wonder:land" });
    assert.deepEqual(await new CredentialStore({ path }).lookup("http://127.0.0.1:5000"), { username: "alice", password: "wonder:land" });

    // Docker Hub under any of its names is one entry, filed as docker.io
    await store.login("https://index.docker.io/v1/", { username: "hub1", password: "p1" });
    await store.login("registry-1.docker.io", { username: "hub2", password: "p2" });
    await store.login("ghcr.io", { username: "<token>", password: "refresh-tok" });
    const file = JSON.parse(await readFile(path, "utf8")) as { auths: Record<string, unknown> };
    assert.deepEqual(Object.keys(file.auths).sort(), ["127.0.0.1:5000", "docker.io", "ghcr.io"]);
    assert.deepEqual(file.auths["ghcr.io"], { identitytoken: "refresh-tok" });
    assert.deepEqual(await store.lookup("docker.io"), { username: "hub2", password: "p2" });
    assert.deepEqual(await store.lookup("ghcr.io"), { username: "<token>", password: "refresh-tok" });
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    assert.equal(await store.logout("index.docker.io"), true);
    assert.equal(await store.logout("docker.io"), false);
    assert.equal(await store.lookup("docker.io"), undefined);
    assert.deepEqual(await store.lookup("127.0.0.1:5000"), { username: "alice", password: "wonder:land" });
    // no temporary files are left behind
    assert.deepEqual(await readdir(join(dir, "home")), ["auth.json"]);
  });
});

test("CredentialStore: concurrent logins all land; other fields survive; bad input and bad files", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "auth.json");
    await writeFile(path, JSON.stringify({ auths: { "quay.io": { auth: b64("q:p") } }, credHelpers: { "gcr.io": "gcloud" } }));
    const store = new CredentialStore({ path });
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.login(`r${i}.example`, { username: `u${i}`, password: "p" })));
    const file = JSON.parse(await readFile(path, "utf8")) as { auths: Record<string, unknown>; credHelpers: unknown };
    assert.equal(Object.keys(file.auths).length, 9);
    assert.deepEqual(file.credHelpers, { "gcr.io": "gcloud" });
    await assert.rejects(store.login("bad host", { username: "u", password: "p" }), isInvalidArgument);
    await assert.rejects(store.login("ok.example", { username: "", password: "p" }), isInvalidArgument);
    await writeFile(path, "{ broken");
    await assert.rejects(store.lookup("quay.io"), (err: Error) => isInvalidArgument(err) && err.message.startsWith(`credential store ${path}: not valid JSON`));
    // a corrupt store is not overwritten by a login
    await assert.rejects(store.login("x.example", { username: "u", password: "p" }), isInvalidArgument);
    assert.equal(await readFile(path, "utf8"), "{ broken");
  });
});

test("podyardHome: $PODYARD_HOME, root, everyone else", () => {
  assert.equal(podyardHome({ env: { PODYARD_HOME: "/srv/py" }, uid: 0 }), "/srv/py");
  assert.equal(podyardHome({ env: {}, uid: 0 }), "/var/lib/podyard");
  assert.equal(podyardHome({ env: {}, uid: 1000, home: "/home/ann" }), "/home/ann/.local/share/podyard");
});

test("CredentialChain and defaultCredentialProvider: podyard's store first, then Docker's config", async () => {
  await withTempDir(async (dir) => {
    const storePath = join(dir, "auth.json");
    const dockerPath = await dockerConfig(dir, { auths: { "quay.io": { auth: b64("docker-q:p") }, "ghcr.io": { auth: b64("docker-g:p") } } });
    await new CredentialStore({ path: storePath }).login("quay.io", { username: "podyard-q", password: "p" });
    const provider = defaultCredentialProvider({ storePath, dockerConfigPath: dockerPath, env: {} });
    assert.deepEqual(await provider.lookup("quay.io"), { username: "podyard-q", password: "p" });
    assert.deepEqual(await provider.lookup("ghcr.io"), { username: "docker-g", password: "p" });
    assert.equal(await provider.lookup("docker.io"), undefined);
    const asked: string[] = [];
    const spy = (name: string, answer?: string): CredentialProvider => ({
      lookup: (host) => {
        asked.push(`${name}:${host}`);
        return Promise.resolve(answer === undefined ? undefined : { username: answer, password: "x" });
      },
    });
    const chain = new CredentialChain([spy("a"), spy("b", "bee"), spy("c", "sea")]);
    assert.deepEqual(await chain.lookup("h.example"), { username: "bee", password: "x" });
    assert.deepEqual(asked, ["a:h.example", "b:h.example"]);
  });
});
