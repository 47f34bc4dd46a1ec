/** Idle upload sessions expire after the TTL (168 h by default), checked hourly on the injected clock. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../../src/clock/index.js";
import { errorCode, startRegistry } from "../../helpers/registry.js";

const HOUR = 3600_000;

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

test("an upload idle past the TTL is purged at the next hourly check, not before", async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const reg = await startRegistry({ clock, uploadTtlMs: 168 * HOUR });
  try {
    const res = await fetch(`${reg.url}/v2/expiry/app/blobs/uploads/`, { method: "POST" });
    assert.equal(res.status, 202);
    const location = new URL(res.headers.get("location") ?? "", reg.url).toString();
    for (let h = 1; h <= 168; h++) {
      clock.step(HOUR);
      await settle();
    }
    // at exactly 168 h the session is as old as the TTL: kept
    assert.equal((await fetch(location)).status, 204, "kept at 168 h");
    clock.step(HOUR);
    await settle();
    await new Promise((r) => setTimeout(r, 50));
    const gone = await fetch(location);
    assert.equal(gone.status, 404, "purged at the 169 h check");
    assert.equal(await errorCode(gone), "BLOB_UPLOAD_UNKNOWN");
  } finally {
    await reg.close();
  }
});
