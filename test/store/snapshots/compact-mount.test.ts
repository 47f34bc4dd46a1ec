import { test } from "node:test";
import assert from "node:assert/strict";
import { compactMount, MOUNT_OPTIONS_MAX, type Mount } from "../../../src/store/index.js";

const root = "/var/lib/podyard/snapshots/snapshots";

function overlay(layers: number): Mount {
  const lowers = Array.from({ length: layers }, (_, i) => `${root}/${layers - i}/fs`);
  return { type: "overlay", source: "overlay", options: [`workdir=${root}/${layers + 1}/work`, `upperdir=${root}/${layers + 1}/fs`, `lowerdir=${lowers.join(":")}`] };
}

test("compactMount: options that fit in one page, and binds, are left as they are", () => {
  const m = overlay(10);
  assert.deepEqual(compactMount(m), { options: m.options });
  const bind: Mount = { type: "bind", source: `${root}/1/fs`, options: ["ro", "rbind"] };
  assert.deepEqual(compactMount(bind), { options: bind.options });
});

test("compactMount: 128 lowerdirs by absolute path become relative to their common parent, and fit", () => {
  const m = overlay(128);
  assert.ok(m.options.join(",").length > MOUNT_OPTIONS_MAX, "the case needs compacting");
  const { options, cwd } = compactMount(m);
  assert.equal(cwd, root);
  assert.deepEqual(options.slice(0, 2), m.options.slice(0, 2), "upper and work directories stay absolute");
  assert.equal(options[2], `lowerdir=${Array.from({ length: 128 }, (_, i) => `${128 - i}/fs`).join(":")}`);
  assert.ok(options.join(",").length < MOUNT_OPTIONS_MAX);
});
