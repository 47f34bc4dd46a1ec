/** Conformance: content management, deletes of tags, manifests and blobs (oci-registry.md §2.2). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MediaType } from "../../../src/oci/index.js";
import { errorCode, pushBlob, pushImage, startRegistry } from "../../helpers/registry.js";

test("deleting a tag leaves the manifest; deleting the manifest removes its tags; both are atomic", async () => {
  const reg = await startRegistry();
  try {
    const img = await pushImage(reg.url, "del/app", "v1");
    await fetch(`${reg.url}/v2/del/app/manifests/v2`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: new Uint8Array(img.manifest) });
    let res = await fetch(`${reg.url}/v2/del/app/manifests/v1`, { method: "DELETE" });
    assert.equal(res.status, 202);
    assert.equal((await fetch(`${reg.url}/v2/del/app/manifests/v1`)).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/del/app/manifests/${img.digest}`)).status, 200);
    res = await fetch(`${reg.url}/v2/del/app/manifests/${img.digest}`, { method: "DELETE" });
    assert.equal(res.status, 202);
    assert.equal((await fetch(`${reg.url}/v2/del/app/manifests/${img.digest}`)).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/del/app/manifests/v2`)).status, 404);
    res = await fetch(`${reg.url}/v2/del/app/manifests/${img.digest}`, { method: "DELETE" });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), "MANIFEST_UNKNOWN");
    // blobs can go after their manifest
    res = await fetch(`${reg.url}/v2/del/app/blobs/${img.layers[0]}`, { method: "DELETE" });
    assert.equal(res.status, 202);
    assert.equal((await fetch(`${reg.url}/v2/del/app/blobs/${img.layers[0]}`)).status, 404);
  } finally {
    await reg.close();
  }
});

test("a blob deleted from one repository is still served by another that has it", async () => {
  const reg = await startRegistry();
  try {
    const d = await pushBlob(reg.url, "del/one", "shared");
    await pushBlob(reg.url, "del/two", "shared");
    assert.equal((await fetch(`${reg.url}/v2/del/one/blobs/${d}`, { method: "DELETE" })).status, 202);
    assert.equal((await fetch(`${reg.url}/v2/del/one/blobs/${d}`)).status, 404);
    assert.equal(await (await fetch(`${reg.url}/v2/del/two/blobs/${d}`)).text(), "shared");
    const again = await fetch(`${reg.url}/v2/del/one/blobs/${d}`, { method: "DELETE" });
    assert.equal(again.status, 404);
    assert.equal(await errorCode(again), "BLOB_UNKNOWN");
  } finally {
    await reg.close();
  }
});

test("deleting a referrer removes it from the referrers index", async () => {
  const reg = await startRegistry();
  try {
    const img = await pushImage(reg.url, "del/ref", "v1");
    const cfg = await pushBlob(reg.url, "del/ref", "{}");
    const body = JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: "application/x",
      config: { mediaType: MediaType.ociEmpty, digest: cfg, size: 2 }, layers: [],
      subject: { mediaType: MediaType.ociManifest, digest: img.digest, size: img.manifest.length },
    });
    const put = await fetch(`${reg.url}/v2/del/ref/manifests/sig`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body });
    const digest = put.headers.get("docker-content-digest") ?? "";
    assert.equal(((await (await fetch(`${reg.url}/v2/del/ref/referrers/${img.digest}`)).json()) as { manifests: unknown[] }).manifests.length, 1);
    assert.equal((await fetch(`${reg.url}/v2/del/ref/manifests/${digest}`, { method: "DELETE" })).status, 202);
    assert.deepEqual(((await (await fetch(`${reg.url}/v2/del/ref/referrers/${img.digest}`)).json()) as { manifests: unknown[] }).manifests, []);
  } finally {
    await reg.close();
  }
});

test("with deletes disabled, every DELETE is 405 UNSUPPORTED and nothing changes", async () => {
  const reg = await startRegistry({ settings: { deleteEnabled: false } });
  try {
    const img = await pushImage(reg.url, "del/off", "v1");
    for (const path of ["manifests/v1", `manifests/${img.digest}`, `blobs/${img.layers[0]}`]) {
      const res = await fetch(`${reg.url}/v2/del/off/${path}`, { method: "DELETE" });
      assert.equal(res.status, 405, path);
      assert.equal(await errorCode(res), "UNSUPPORTED");
    }
    assert.equal((await fetch(`${reg.url}/v2/del/off/manifests/v1`)).status, 200);
  } finally {
    await reg.close();
  }
});

test("with deletes disabled, an upload can still be cancelled: DELETE on its location is 204 and the upload is gone", async () => {
  const reg = await startRegistry({ settings: { deleteEnabled: false } });
  try {
    const start = await fetch(`${reg.url}/v2/del/off/blobs/uploads/`, { method: "POST" });
    assert.equal(start.status, 202);
    const location = new URL(start.headers.get("location") ?? "", reg.url).href;
    const patch = await fetch(location, { method: "PATCH", headers: { "Content-Type": "application/octet-stream" }, body: "half a layer" });
    assert.equal(patch.status, 202);
    const cancel = await fetch(location, { method: "DELETE" });
    assert.equal(cancel.status, 204, await cancel.text());
    const status = await fetch(location);
    assert.equal(status.status, 404);
    assert.equal(await errorCode(status), "BLOB_UPLOAD_UNKNOWN");
  } finally {
    await reg.close();
  }
});
