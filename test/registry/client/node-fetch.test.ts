import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { nodeHttpFetch } from "../../../src/registry/client/index.js";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test("a followed redirect to another origin carries no Authorization, Proxy-Authorization or Cookie; one to the same origin keeps them", async () => {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const target = createServer((req, res) => {
    seen.push({ path: req.url ?? "", headers: req.headers });
    res.end("token");
  });
  const targetUrl = await listen(target);
  const realm = createServer((req, res) => {
    seen.push({ path: req.url ?? "", headers: req.headers });
    if (req.url === "/token") res.writeHead(307, { location: "/same" }).end();
    else res.writeHead(302, { location: `${targetUrl}/elsewhere` }).end();
  });
  const realmUrl = await listen(realm);
  try {
    const res = await nodeHttpFetch()(`${realmUrl}/token`, {
      headers: { Authorization: "Basic dXNlcjpzZWNyZXQ=", "Proxy-Authorization": "Basic cHJveHk6cA==", Cookie: "session=1", Accept: "application/json" },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "token");
    assert.deepEqual(seen.map((s) => s.path), ["/token", "/same", "/elsewhere"]);
    assert.equal(seen[1]?.headers.authorization, "Basic dXNlcjpzZWNyZXQ=", "the same origin still gets the credentials");
    const other = seen[2]?.headers ?? {};
    assert.equal(other.authorization, undefined);
    assert.equal(other["proxy-authorization"], undefined);
    assert.equal(other.cookie, undefined);
    assert.equal(other.accept, "application/json", "other headers go on");
  } finally {
    await close(realm);
    await close(target);
  }
});
