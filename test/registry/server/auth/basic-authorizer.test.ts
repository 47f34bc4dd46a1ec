import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaType } from "../../../../src/oci/index.js";
import { BasicAuthorizer, parseBasicAuth } from "../../../../src/registry/server/auth/basic-authorizer.js";
import { Htpasswd } from "../../../../src/registry/server/auth/htpasswd.js";
import { startRegistry } from "../../../helpers/registry.js";
import { basic, errorCode, htpasswdLine, parseChallenge, pushImage, TestClient } from "./helpers.js";

test("parseBasicAuth", () => {
  const enc = (s: string): string => Buffer.from(s).toString("base64");
  assert.equal(parseBasicAuth(undefined), undefined);
  assert.equal(parseBasicAuth("Bearer abc"), undefined);
  assert.deepEqual(parseBasicAuth(`Basic ${enc("u:p:q")}`), { user: "u", password: "p:q" });
  assert.deepEqual(parseBasicAuth(`basic  ${enc("u:")}`), { user: "u", password: "" });
  assert.deepEqual(parseBasicAuth(`Basic ${enc("üser:pässword")}`), { user: "üser", password: "pässword" });
  assert.equal(parseBasicAuth(`Basic ${enc("nocolon")}`), "malformed");
  assert.equal(parseBasicAuth("Basic !!!"), "malformed");
  assert.equal(parseBasicAuth("Basic"), "malformed");
});

test("Basic auth on a real registry: challenge, wrong password, right password, push and pull", async (t) => {
  const { line, how } = await htpasswdLine("alice", "wonderland");
  t.diagnostic(`htpasswd line written by ${how}`);
  const htpasswd = Htpasswd.parse(line, { source: "test" });
  const reg = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd, realm: "podyard \"test\"" }) });
  try {
    const none = await fetch(`${reg.url}/v2/`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Basic realm="podyard \\"test\\""');
    assert.deepEqual(parseChallenge(none.headers.get("www-authenticate")), { scheme: "Basic", params: { realm: 'podyard "test"' } });
    assert.equal(await errorCode(none), "UNAUTHORIZED");

    const wrong = await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic("alice", "nope") } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    assert.equal(await errorCode(wrong), "UNAUTHORIZED");

    const stranger = await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic("mallory", "wonderland") } });
    assert.equal(stranger.status, 401);
    await stranger.arrayBuffer();

    const bearer = await fetch(`${reg.url}/v2/`, { headers: { Authorization: "Bearer abc" } });
    assert.equal(bearer.status, 401, "Basic authorizer ignores Bearer tokens");
    await bearer.arrayBuffer();

    const ok = await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic("alice", "wonderland") } });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();

    // without credentials a push is refused before anything is stored
    const anon = new TestClient();
    await assert.rejects(pushImage(anon, reg.url, "app", "v1"), /push blob: 401/);

    const client = new TestClient(basic("alice", "wonderland"));
    const img = await pushImage(client, reg.url, "team/app", "v1");
    const get = await client.fetch(`${reg.url}/v2/team/app/manifests/v1`, { headers: { Accept: MediaType.ociManifest } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get("docker-content-digest"), img.digest);
    await get.arrayBuffer();

    const catalog = await client.fetch(`${reg.url}/v2/_catalog`);
    assert.equal(catalog.status, 200);
    assert.deepEqual(await catalog.json(), { repositories: ["team/app"] });

    const anonPull = await fetch(`${reg.url}/v2/team/app/manifests/v1`);
    assert.equal(anonPull.status, 401);
    await anonPull.arrayBuffer();
  } finally {
    await reg.close();
  }
});
