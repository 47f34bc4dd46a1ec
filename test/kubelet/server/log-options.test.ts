import assert from "node:assert/strict";
import { test } from "node:test";
import { parseLogQuery } from "../../../src/kubelet/server/log-options.js";

test("the log query: flags, numbers, sinceSeconds against now, and refusals", () => {
  const now = Date.parse("2026-12-03T10:00:00Z");
  assert.deepEqual(parseLogQuery(new URLSearchParams("follow=true&tailLines=5&limitBytes=10&timestamps=1&sinceSeconds=60"), now), {
    previous: false,
    opts: { follow: true, timestamps: true, stream: "All", tailLines: 5, limitBytes: 10, sinceTime: now - 60_000 },
  });
  assert.deepEqual(parseLogQuery(new URLSearchParams("previous=true&sinceTime=2026-12-03T09:00:00Z&stream=Stdout"), now), {
    previous: true,
    opts: { follow: false, timestamps: false, stream: "Stdout", sinceTime: Date.parse("2026-12-03T09:00:00Z") },
  });
  for (const bad of ["tailLines=-1", "limitBytes=0", "tailLines=x", "sinceTime=yesterday", "stream=Both", "sinceSeconds=5&sinceTime=2026-12-03T09:00:00Z"]) {
    assert.ok("error" in parseLogQuery(new URLSearchParams(bad), now), bad);
  }
});
