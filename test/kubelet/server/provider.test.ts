import assert from "node:assert/strict";
import { test } from "node:test";
import type { Kubelet } from "../../../src/kubelet/index.js";
import { isLookupError, type KubeletProvider } from "../../../src/kubelet/server/index.js";

test("the Kubelet is a KubeletProvider (the server takes it as is), and lookup errors are told apart", () => {
  // A compile-time check: tsc fails here if the kubelet's methods drift from what the server calls.
  const fits: Kubelet extends KubeletProvider ? true : false = true;
  assert.equal(fits, true);
  assert.equal(isLookupError({ error: { code: 400, reason: "BadRequest", message: "m" } }), true);
  assert.equal(isLookupError({ containerId: "c", logPath: "/l", running: true, sandboxId: "s" }), false);
});
