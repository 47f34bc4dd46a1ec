import { test } from "node:test";
import assert from "node:assert/strict";
import { bearerChallenge, hasBasicChallenge, parseChallenges, type Challenge } from "../../../src/registry/client/index.js";

const CASES: { name: string; header: string | string[] | null; want: Challenge[] }[] = [
  {
    name: "Docker Hub bearer",
    header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    want: [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" } }],
  },
  {
    name: "comma inside a quoted scope",
    header: 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:ns/app:pull,push"',
    want: [{ scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:ns/app:pull,push" } }],
  },
  {
    name: "several scopes, host:port in a name",
    header: 'Bearer realm="http://127.0.0.1:5001/token",scope="repository:a/b:pull repository:localhost:5000/c:pull,push"',
    want: [{ scheme: "bearer", params: { realm: "http://127.0.0.1:5001/token", scope: "repository:a/b:pull repository:localhost:5000/c:pull,push" } }],
  },
  {
    name: "insufficient scope error",
    header: 'Bearer realm="https://a/token",service="s",scope="repository:x:push",error="insufficient_scope"',
    want: [{ scheme: "bearer", params: { realm: "https://a/token", service: "s", scope: "repository:x:push", error: "insufficient_scope" } }],
  },
  { name: "basic", header: 'Basic realm="Registry Realm"', want: [{ scheme: "basic", params: { realm: "Registry Realm" } }] },
  { name: "unquoted token value", header: "Basic realm=simple", want: [{ scheme: "basic", params: { realm: "simple" } }] },
  {
    name: "escapes in a quoted string",
    header: 'Basic realm="a \\"quoted\\" realm, with comma"',
    want: [{ scheme: "basic", params: { realm: 'a "quoted" realm, with comma' } }],
  },
  {
    name: "two challenges in one header",
    header: 'Bearer realm="https://a/token",service="s", Basic realm="b"',
    want: [
      { scheme: "bearer", params: { realm: "https://a/token", service: "s" } },
      { scheme: "basic", params: { realm: "b" } },
    ],
  },
  {
    name: "case-insensitive scheme and names, spaces around =",
    header: 'BEARER Realm = "https://a/token" , Service = "s"',
    want: [{ scheme: "bearer", params: { realm: "https://a/token", service: "s" } }],
  },
  {
    name: "header lines as an array",
    header: ['Basic realm="one"', 'Bearer realm="https://two/token"'],
    want: [
      { scheme: "basic", params: { realm: "one" } },
      { scheme: "bearer", params: { realm: "https://two/token" } },
    ],
  },
  {
    name: "token68 and a bare scheme",
    header: "Negotiate abc+/==, Bearer",
    want: [{ scheme: "negotiate", params: {}, token68: "abc+/==" }, { scheme: "bearer", params: {} }],
  },
  { name: "empty", header: "", want: [] },
  { name: "absent", header: null, want: [] },
];

for (const c of CASES) {
  test(`parseChallenges: ${c.name}`, () => {
    assert.deepEqual(parseChallenges(c.header), c.want);
  });
}

test("bearerChallenge splits scopes and needs a realm", () => {
  const cs = parseChallenges('Basic realm="b", Bearer realm="https://a/token",service="s",scope="repository:x:pull repository:y:pull",error="invalid_token"');
  assert.deepEqual(bearerChallenge(cs), {
    realm: "https://a/token",
    service: "s",
    scopes: ["repository:x:pull", "repository:y:pull"],
    error: "invalid_token",
  });
  assert.equal(hasBasicChallenge(cs), true);
  assert.equal(bearerChallenge(parseChallenges('Bearer service="s"')), undefined);
  assert.equal(hasBasicChallenge(parseChallenges('Bearer realm="x"')), false);
});
