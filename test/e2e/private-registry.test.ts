/**
 * A private image in a registry with auth: refused without credentials (ErrImagePull with
 * the registry's own "unauthorized"), run with a secret made by
 * `kubectl create secret docker-registry` (kubectl 1.32 sends it as protobuf).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { BasicAuthorizer, Htpasswd } from "../../src/registry/server/index.js";
import { buildTestImage, pushLayout } from "../helpers/images.js";
import { startRegistry } from "../helpers/registry.js";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { needKubectl, ok, startUp, waitFor, waitPodReady } from "./helpers/node.js";

after(killLeftoverChildren);
const FILE = "private-registry.test.ts";

test("create secret docker-registry lets a pod pull a private image", async (t) => {
  if (!needKubectl(t, FILE)) return;
  const image = await buildTestImage();
  t.after(() => image.cleanup());
  const reg = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: Htpasswd.parse(`alice:${bcrypt.hashSync("wonderland", 4)}\n`), realm: "podyard" }) });
  t.after(() => reg.close());
  const host = new URL(reg.url).host;
  await pushLayout(reg.url, "private/app", "v1", image, { credentials: { username: "alice", password: "wonderland" } });
  const node = await startUp(t);
  const k = node.kubectl;
  const dir = await mkdtemp(join(tmpdir(), "podyard-pods-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pod = (name: string, secret: boolean): string => [
    "apiVersion: v1", "kind: Pod", "metadata:", `  name: ${name}`, "spec:",
    ...(secret ? ["  imagePullSecrets:", "  - name: regcred"] : []),
    "  containers:", "  - name: app", `    image: ${host}/private/app:v1`, "    command: ['sleep', '3600']", "",
  ].join("\n");
  await writeFile(join(dir, "without.yaml"), pod("without", false));
  await writeFile(join(dir, "with.yaml"), pod("with", true));

  ok(await k(["apply", "-f", join(dir, "without.yaml")]), "apply without");
  const reason = await waitFor("ErrImagePull or ImagePullBackOff", async () => {
    const r = await k(["get", "pod", "without", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]);
    return /^(ErrImagePull|ImagePullBackOff)$/.test(r.stdout) ? r.stdout : undefined;
  }, 90_000, 200);
  assert.match(reason, /ErrImagePull|ImagePullBackOff/);
  const described = ok(await k(["describe", "pod", "without"]), "describe");
  assert.match(described, /Warning\s+Failed\s+.*Failed to pull image ".*private\/app:v1".*(unauthorized|authentication required|401)/i);

  const created = ok(await k(["create", "secret", "docker-registry", "regcred", `--docker-server=${host}`, "--docker-username=alice", "--docker-password=wonderland", "--docker-email=alice@example.com"]), "create secret");
  assert.equal(created.trim(), "secret/regcred created");
  assert.match(ok(await k(["get", "secret", "regcred"]), "get secret"), /regcred\s+kubernetes\.io\/dockerconfigjson\s+1\s+/);
  ok(await k(["apply", "-f", join(dir, "with.yaml")]), "apply with");
  await waitPodReady(node, "with");
  assert.match(ok(await k(["describe", "pod", "with"]), "describe with"), /Successfully pulled image ".*private\/app:v1"/);
});
