/**
 * containers/image (through skopeo) against the registry with Basic and with token
 * auth: it must follow the challenge, fetch a token with `--creds`, and fail cleanly
 * without them. Skipped, with the reason, when skopeo is not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Authorizer } from "../../../../src/registry/server/auth/access.js";
import { BasicAuthorizer } from "../../../../src/registry/server/auth/basic-authorizer.js";
import { Htpasswd } from "../../../../src/registry/server/auth/htpasswd.js";
import { createTokenAuth } from "../../../../src/registry/server/auth/token-server.js";
import type { RegistryServerOptions } from "../../../../src/registry/server/index.js";
import { startRegistry } from "../../../helpers/registry.js";
import { basic, htpasswdLine, pushImage, TestClient } from "./helpers.js";

const run = promisify(execFile);

async function skopeoMissing(): Promise<string | false> {
  try {
    await run("skopeo", ["--version"]);
    return false;
  } catch (err) {
    return `skopeo is not usable: ${(err as Error).message}`;
  }
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function skopeo(args: string[], home: string): Promise<Result> {
  // a private HOME and auth file, so no stored credentials of the machine leak in
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home, REGISTRY_AUTH_FILE: join(home, "auth.json") };
  try {
    const { stdout, stderr } = await run("skopeo", args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function check(t: { diagnostic(msg: string): void }, mode: "basic" | "token"): Promise<void> {
  const { line, how } = await htpasswdLine("alice", "wonderland");
  t.diagnostic(`htpasswd line written by ${how}`);
  const htpasswd = Htpasswd.parse(line);
  let realm = "";
  let authorizer: Authorizer;
  let extraRoutes: RegistryServerOptions["extraRoutes"] = {};
  if (mode === "basic") {
    authorizer = new BasicAuthorizer({ htpasswd, realm: "podyard" });
  } else {
    const auth = createTokenAuth({ realm: () => realm, service: "podyard-test", htpasswd, anonymousPull: false });
    authorizer = auth.authorizer;
    extraRoutes = { "/auth/token": auth.tokenEndpoint };
  }
  const reg = await startRegistry({ authorizer, extraRoutes });
  realm = `${reg.url}/auth/token`;
  const home = await mkdtemp(join(tmpdir(), "podyard-skopeo-"));
  try {
    const img = await pushImage(new TestClient(basic("alice", "wonderland")), reg.url, "team/app", "v1");
    const ref = `docker://${reg.url.replace(/^http:\/\//, "")}/team/app:v1`;

    const ok = await skopeo(["inspect", "--tls-verify=false", "--creds", "alice:wonderland", ref], home);
    assert.equal(ok.code, 0, ok.stderr);
    const info = JSON.parse(ok.stdout) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
    assert.equal(info.Digest, img.digest);
    assert.equal(info.Architecture, "amd64");
    assert.equal(info.Os, "linux");
    assert.equal(info.Layers.length, 1);

    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", "alice:wonderland", ref], home);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, img.manifest.toString());

    const anon = await skopeo(["inspect", "--tls-verify=false", ref], home);
    assert.notEqual(anon.code, 0, "no credentials, no image");
    assert.match(anon.stderr, /unauthorized|authentication required/i);

    const wrong = await skopeo(["inspect", "--tls-verify=false", "--creds", "alice:nope", ref], home);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized|authentication required|invalid username or password/i);
    t.diagnostic(`skopeo without valid credentials: ${wrong.stderr.trim().split("\n").pop() ?? ""}`);
  } finally {
    await reg.close();
    await rm(home, { recursive: true, force: true });
  }
}

test("skopeo inspect with Basic auth", async (t) => {
  const why = await skopeoMissing();
  if (why) return t.skip(why);
  await check(t, "basic");
});

test("skopeo inspect with token auth", async (t) => {
  const why = await skopeoMissing();
  if (why) return t.skip(why);
  await check(t, "token");
});
