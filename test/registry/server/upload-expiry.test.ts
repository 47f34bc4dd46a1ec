/** Idle upload sessions expire after the TTL (168 h by default), checked hourly on the injected clock. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../../src/clock/index.js";
import { errorCode, startRegistry } from "../../helpers/registry.js";

const HOUR = 3600_000;

/** Waits (in real time, bounded) until the expiry loop sleeps on the fake clock again. */
async function untilAsleep(clock: FakeClock): Promise<void> {
  for (let i = 0; clock.sleepers === 0; i++) {
    if (i > 500) throw new Error("the upload expiry loop never went back to sleep");
    await new Promise((r) => setTimeout(r, 2));
  }
}

test("an upload idle past the TTL is purged at the next hourly check, not before", async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const reg = await startRegistry({ clock, uploadTtlMs: 168 * HOUR });
  try {
    const res = await fetch(`${reg.url}/v2/expiry/app/blobs/uploads/`, { method: "POST" });
    assert.equal(res.status, 202);
    const location = new URL(res.headers.get("location") ?? "", reg.url).toString();
    for (let h = 1; h <= 168; h++) {
      await untilAsleep(clock);
      clock.step(HOUR);
    }
    await untilAsleep(clock);
    // at exactly 168 h the session is as old as the TTL: kept
    assert.equal((await fetch(location)).status, 204, "kept at 168 h");
    clock.step(HOUR);
    await untilAsleep(clock); // the 169 h check has run
    const gone = await fetch(location);
    assert.equal(gone.status, 404, "purged at the 169 h check");
    assert.equal(await errorCode(gone), "BLOB_UPLOAD_UNKNOWN");
  } finally {
    await reg.close();
  }
});
