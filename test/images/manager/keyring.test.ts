/** Which registry credentials an image gets (pkg/credentialprovider keyring_test vectors). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Secret } from "../../../src/api/index.js";
import {
  BasicDockerKeyring, dockerConfigFromSecret, isDefaultRegistryMatch, makeDockerKeyring, normalizeRegistryKey, parseDockerConfigEntry, readNodeDockerConfig, urlsMatch,
} from "../../../src/images/index.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const users = (k: BasicDockerKeyring, image: string): string[] => k.lookup(image).map((c) => c.username);

test("a longer path key comes first; a host key serves every path; other hosts get nothing", () => {
  const k = new BasicDockerKeyring();
  k.add({ "bar.example.com/pong": { username: "grace", password: "squash" }, "bar.example.com": { username: "ada", password: "lovelace" } });
  assert.deepEqual(users(k, "bar.example.com"), ["ada"]);
  assert.deepEqual(users(k, "bar.example.com/ping"), ["ada"]);
  assert.deepEqual(users(k, "bar.example.com/pong"), ["grace", "ada"]);
  assert.deepEqual(users(k, "bar.example.com/pongz"), ["grace", "ada"], "a plain prefix match, as the kubelet does");
  assert.deepEqual(users(k, "bar.example.com/pong/pang"), ["grace", "ada"]);
  assert.deepEqual(users(k, "example.com"), []);
  assert.deepEqual(users(k, "foo.example.com"), []);
});

test("keys lose their scheme and /v1/ or /v2/; Docker Hub images fall back to index.docker.io", () => {
  assert.equal(normalizeRegistryKey("https://index.docker.io/v1/"), "index.docker.io");
  assert.equal(normalizeRegistryKey("https://quay.io/v1/"), "quay.io");
  assert.equal(normalizeRegistryKey("http://reg:5000/v2/team"), "reg:5000/team");
  assert.equal(normalizeRegistryKey("reg:5000/"), "reg:5000");
  const quay = new BasicDockerKeyring();
  quay.add({ "https://quay.io/v1/": { username: "q", password: "p" } });
  for (const image of ["quay.io", "quay.io/foo", "quay.io/foo/bar"]) assert.deepEqual(users(quay, image), ["q"], image);
  for (const key of ["https://index.docker.io/v1/", "index.docker.io", "index.docker.io/v1/", "docker.io"]) {
    const k = new BasicDockerKeyring();
    k.add({ [key]: { username: "hub", password: "p" } });
    assert.deepEqual(users(k, "docker.io/library/nginx"), ["hub"], key);
  }
  const other = new BasicDockerKeyring();
  other.add({ "registry-1.docker.io": { username: "r1", password: "p" } });
  assert.deepEqual(users(other, "docker.io/library/nginx"), [], "registry-1.docker.io is no alias");
});

test("host labels match by glob, label counts and ports must agree", () => {
  assert.equal(urlsMatch("*.kubernetes.io", "prefix.kubernetes.io"), true);
  assert.equal(urlsMatch("*.kubernetes.io", "kubernetes.io"), false);
  assert.equal(urlsMatch("*-good.kubernetes.io", "prefix-good.kubernetes.io/foo"), true);
  assert.equal(urlsMatch("prefix.*.io", "prefix.kubernetes.io"), true);
  assert.equal(urlsMatch("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah"), false);
  assert.equal(urlsMatch("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar"), false);
  assert.equal(urlsMatch("127.0.0.1:5000", "127.0.0.1:5000/pods/app"), true);
  assert.equal(urlsMatch("127.0.0.1:5000", "127.0.0.1:5001/pods/app"), false);
});

test("isDefaultRegistryMatch: Docker Hub names only", () => {
  for (const s of ["foo/bar", "docker.io/foo/bar", "index.docker.io/foo/bar", "foo"]) assert.equal(isDefaultRegistryMatch(s), true, s);
  for (const s of ["", "registry.tld/foo/bar", "registry:5000/foo/bar", "myhostdocker.io/foo/bar"]) assert.equal(isDefaultRegistryMatch(s), false, s);
});

test("auth overrides username and password; padded and unpadded base64; a bad auth is refused", () => {
  assert.deepEqual(parseDockerConfigEntry({ username: "x", password: "y", auth: b64("ada:love:lace") }), { username: "ada", password: "love:lace" });
  assert.deepEqual(parseDockerConfigEntry({ auth: b64("ab:c").replace(/=+$/, "") }), { username: "ab", password: "c" });
  assert.deepEqual(parseDockerConfigEntry({ username: "u", password: "p", email: "e@x" }), { username: "u", password: "p", email: "e@x" });
  assert.throws(() => parseDockerConfigEntry({ auth: b64("nocolon") }), /^InvalidArgumentError: unable to parse auth field, must be formatted as base64\(username:password\)$/);
  assert.throws(() => parseDockerConfigEntry({ auth: "!!!" }), /unable to parse auth field/);
});

function secret(name: string, type: string, data: Record<string, string>): Secret {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default", uid: `uid-${name}` }, type, data };
}

test("pull secrets: dockerconfigjson and dockercfg are read, other types ignored, pod secrets before the node's", () => {
  const json = secret("json", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": b64(JSON.stringify({ auths: { "reg.example.com": { auth: b64("j:pw") } } })) });
  const cfg = secret("cfg", "kubernetes.io/dockercfg", { ".dockercfg": b64(JSON.stringify({ "reg.example.com": { username: "c", password: "pw" } })) });
  const opaque = secret("opaque", "Opaque", { ".dockerconfigjson": b64(JSON.stringify({ auths: { "reg.example.com": { username: "o", password: "p" } } })) });
  assert.equal(dockerConfigFromSecret(opaque), undefined);
  const node = new BasicDockerKeyring();
  node.add({ "reg.example.com": { username: "node", password: "p" } });
  const k = makeDockerKeyring([json, cfg, opaque], node);
  const found = k.lookup("reg.example.com/app");
  assert.deepEqual(found.map((c) => c.username), ["j", "c", "node"]);
  assert.deepEqual(found[0]?.source, { secret: { uid: "uid-json", namespace: "default", name: "json" } });
  assert.equal(found[2]?.source, undefined, "node credentials have no source");
  assert.equal(makeDockerKeyring([opaque], node), node, "no usable secret: just the node keyring");
  const broken = secret("broken", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": b64("{not json") });
  assert.throws(() => makeDockerKeyring([broken], node), /pull secret default\/broken/);
  assert.equal(found[0]?.authConfigHash, makeDockerKeyring([secret("j2", "kubernetes.io/dockercfg", { ".dockercfg": b64(JSON.stringify({ x: { username: "j", password: "pw" } })) })], node).lookup("x")[0]?.authConfigHash,
    "equal logins hash equal");
});

test("the node's docker config: the first config.json found, else .dockercfg, else nothing", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-keyring-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = join(dir, "a");
  const b = join(dir, "b");
  await mkdir(a);
  await mkdir(b);
  assert.deepEqual(await readNodeDockerConfig({ configJsonDirs: [a, b], dockercfgDirs: [a, b] }), {});
  await writeFile(join(b, ".dockercfg"), JSON.stringify({ "old.example.com": { auth: b64("o:p") } }));
  assert.deepEqual(await readNodeDockerConfig({ configJsonDirs: [a, b], dockercfgDirs: [a, b] }), { "old.example.com": { username: "o", password: "p" } });
  await writeFile(join(b, "config.json"), JSON.stringify({ auths: { "reg.example.com": { username: "n", password: "q" } } }));
  assert.deepEqual(await readNodeDockerConfig({ configJsonDirs: [a, b], dockercfgDirs: [a, b] }), { "reg.example.com": { username: "n", password: "q" } });
  await writeFile(join(a, "config.json"), "{broken");
  await assert.rejects(readNodeDockerConfig({ configJsonDirs: [a, b] }), /config\.json/);
});
