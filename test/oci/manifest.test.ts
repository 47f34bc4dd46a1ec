import { test } from "node:test";
import assert from "node:assert/strict";
import { digestOf, MediaType, parseManifest, referencedDescriptors } from "../../src/oci/index.js";

const d = digestOf("x");
const manifest = (extra: Record<string, unknown> = {}): Buffer => Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: d, size: 1 },
  layers: [{ mediaType: MediaType.ociLayerGzip, digest: d, size: 1 }],
  ...extra,
}));

test("a valid manifest parses and lists config and layers", () => {
  const m = parseManifest(manifest(), MediaType.ociManifest);
  assert.equal(m.kind, "manifest");
  assert.deepEqual(referencedDescriptors(m).map((r) => r.role), ["config", "layer"]);
});

test("bad manifests are rejected naming the field", () => {
  const cases: [Buffer, string | undefined, RegExp][] = [
    [Buffer.from("{"), MediaType.ociManifest, /not valid JSON/],
    [Buffer.from("[]"), MediaType.ociManifest, /JSON object/],
    [manifest({ schemaVersion: 1 }), MediaType.ociManifest, /schemaVersion/],
    [manifest(), MediaType.dockerManifest, /does not match Content-Type/],
    [manifest({ layers: [{ mediaType: "x", digest: "sha256:zz", size: 1 }] }), MediaType.ociManifest, /layers\[0\]\.digest/],
    [manifest({ layers: [{ mediaType: "x", digest: d, size: -1 }] }), MediaType.ociManifest, /layers\[0\]\.size/],
    [manifest({ config: "nope" }), MediaType.ociManifest, /config: descriptor must be an object/],
    [manifest({ annotations: { a: 1 } }), MediaType.ociManifest, /annotations/],
    [Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: {} })), MediaType.ociIndex, /manifests: must be an array/],
  ];
  for (const [bytes, ct, re] of cases) assert.throws(() => parseManifest(bytes, ct), re);
});

test("an index lists its manifests; a manifest without mediaType takes the Content-Type", () => {
  const idx = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.ociManifest, digest: d, size: 3 }] })), MediaType.ociIndex);
  assert.equal(idx.kind, "index");
  assert.equal(idx.mediaType, MediaType.ociIndex);
  const noType = JSON.parse(manifest().toString()) as Record<string, unknown>;
  delete noType.mediaType;
  assert.equal(parseManifest(Buffer.from(JSON.stringify(noType)), MediaType.dockerManifest).mediaType, MediaType.dockerManifest);
});
