import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAuth } from "../../src/images/index.js";
import { IDENTITY_TOKEN_USERNAME } from "../../src/registry/client/index.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

test("parseAuth: username first, then identity token, then auth; another registry's credentials are not used", () => {
  const cases: [Parameters<typeof parseAuth>[0], string, ReturnType<typeof parseAuth>][] = [
    [undefined, "r.example", undefined],
    [{}, "r.example", undefined],
    [{ username: "u", password: "p", identityToken: "t" }, "r.example", { username: "u", password: "p" }],
    [{ identityToken: "t", auth: b64("u:p") }, "r.example", { username: IDENTITY_TOKEN_USERNAME, password: "t" }],
    [{ auth: b64("u:p:with:colons\0") }, "r.example", { username: "u", password: "p:with:colons" }],
    [{ username: "u", password: "p", serverAddress: "https://r.example" }, "r.example", { username: "u", password: "p" }],
    [{ username: "u", password: "p", serverAddress: "r.example:5000" }, "r.example:5000", { username: "u", password: "p" }],
    [{ username: "u", password: "p", serverAddress: "https://index.docker.io/v1/" }, "docker.io", { username: "u", password: "p" }],
    [{ username: "u", password: "p", serverAddress: "other.example" }, "r.example", undefined],
    [{ registryToken: "bearer" }, "r.example", undefined],
  ];
  for (const [auth, host, want] of cases) assert.deepEqual(parseAuth(auth, host), want, JSON.stringify(auth));
  assert.throws(() => parseAuth({ auth: b64("no-colon") }, "r.example"), { code: "InvalidArgument", message: /auth config for r\.example/ });
});
