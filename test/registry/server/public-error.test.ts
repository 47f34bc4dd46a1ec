/**
 * A failure of the server's own (here: storage that went bad under a running
 * `podyard registry serve`) answers 500 UNKNOWN with a generic message: no server
 * path, no stack. The details go to the server's log on stderr.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TokenServer, TokenSigner } from "../../../src/registry/server/index.js";
import { startRegistry } from "../../helpers/registry.js";
import { eventually, makeTempDir, removeDir, startRegistryProcess } from "../../helpers/registry-process.js";

test("a storage failure answers 500 UNKNOWN without paths or stacks, and logs the details", async () => {
  const root = await makeTempDir("public-error");
  const proc = await startRegistryProcess(root);
  try {
    // the uploads directory turns into a file: starting an upload fails on the server's side
    await rm(join(root, "uploads"), { recursive: true, force: true });
    await writeFile(join(root, "uploads"), "not a directory");
    const res = await fetch(`${proc.url}/v2/team/app/blobs/uploads/`, { method: "POST" });
    const body = await res.text();
    assert.equal(res.status, 500, body);
    assert.deepEqual(JSON.parse(body), { errors: [{ code: "UNKNOWN", message: "unknown error" }] });
    assert.ok(!body.includes(root), `the body shows no server path: ${body}`);

    const log = await eventually(async () => {
      const text = proc.stderr();
      assert.match(text, /POST \/v2\/team\/app\/blobs\/uploads\//);
      return text;
    });
    assert.ok(log.includes(join(root, "uploads")), `the log names the path: ${log}`);
    assert.match(log, /\n\s+at /, "the log has the stack");
  } finally {
    await proc.kill();
    await removeDir(root);
  }
});

test("the token endpoint's own failure answers 500 UNKNOWN without the path", async () => {
  const secret = "/etc/podyard/secret/token-key.pem";
  const key = TokenSigner.generate();
  const broken = Object.assign(Object.create(key) as TokenSigner, {
    sign: (): string => {
      throw new Error(`EACCES: permission denied, open '${secret}'`);
    },
  });
  const tokens = new TokenServer({ signer: broken, service: "podyard-registry", issuer: "podyard", anonymousPull: true });
  const reg = await startRegistry({ extraRoutes: { "/auth/token": tokens.handle } });
  try {
    const res = await fetch(`${reg.url}/auth/token?service=podyard-registry&scope=repository:app:pull`);
    const body = await res.text();
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(body), { errors: [{ code: "UNKNOWN", message: "unknown error" }] });
    assert.ok(!body.includes(secret), body);
  } finally {
    await reg.close();
  }
});
