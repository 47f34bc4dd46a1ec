import assert from "node:assert/strict";
import { appendFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { test } from "node:test";
import { startKubelet } from "./fixture.js";

const LOG = [
  "2026-12-03T10:00:00.100000000Z stdout F one",
  "2026-12-03T10:00:01.2+00:00 stderr F two",
  "2026-12-03T10:00:02.300Z stdout P thr",
  "2026-12-03T10:00:02.300Z stdout F ee",
  "2026-12-03T10:00:03Z stdout F four",
  "",
].join("\n");

test("containerLogs serves the CRI log as text: P chunks joined, stderr included", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  await writeFile(k.runtime.containers.get("c-main")?.logPath ?? "", LOG);
  const r = await k.get("/containerLogs/default/web/main");
  assert.equal(r.status, 200);
  assert.match(String(r.headers["content-type"]), /^text\/plain/);
  assert.equal(r.body, "one\ntwo\nthree\nfour\n");
});

test("tailLines counts file lines, timestamps prefix each entry in the kubelet's format, limitBytes cuts, stream and sinceTime filter", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  await writeFile(k.runtime.containers.get("c-main")?.logPath ?? "", LOG);
  assert.equal((await k.get("/containerLogs/default/web/main?tailLines=2")).body, "ee\nfour\n");
  assert.equal((await k.get("/containerLogs/default/web/main?tailLines=1&timestamps=true")).body, "2026-12-03T10:00:03.000000000Z four\n");
  assert.equal((await k.get("/containerLogs/default/web/main?timestamps=1&tailLines=4")).body.split("\n")[0], "2026-12-03T10:00:01.200000000Z two");
  assert.equal((await k.get("/containerLogs/default/web/main?limitBytes=6")).body, "one\ntw");
  assert.equal((await k.get("/containerLogs/default/web/main?stream=Stderr")).body, "two\n");
  assert.equal((await k.get(`/containerLogs/default/web/main?sinceTime=${encodeURIComponent("2026-12-03T10:00:02Z")}`)).body, "three\nfour\n");
  assert.equal((await k.get("/containerLogs/default/web/main?tailLines=-1")).status, 400);
});

test("a waiting container's logs are a 400 Status with the kubelet's text; --previous with no earlier instance too", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  k.refusals.set("default/web/side", { code: 400, reason: "BadRequest", message: `container "side" in pod "web" is waiting to start: ContainerCreating` });
  const waiting = await k.get("/containerLogs/default/web/side");
  assert.equal(waiting.status, 400);
  assert.equal(JSON.parse(waiting.body).message, `container "side" in pod "web" is waiting to start: ContainerCreating`);
  const prev = await k.get("/containerLogs/default/web/main?previous=true");
  assert.equal(JSON.parse(prev.body).message, `previous terminated container "main" in pod "web" not found`);
});

test("follow streams lines as they are written and ends when the container stops", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const c = k.runtime.containers.get("c-main");
  assert.ok(c);
  await writeFile(c.logPath, "2026-12-03T10:00:00Z stdout F first\n");
  const got: string[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: k.port, path: "/containerLogs/default/web/main?follow=true", ca: k.pki.ca, cert: k.pki.clientCert, key: k.pki.clientKey, agent: false }, (res) => {
      res.on("data", (d: Buffer) => {
        got.push(d.toString());
        if (got.join("") === "first\n") void appendFile(c.logPath, "2026-12-03T10:00:01Z stdout F second\n");
        if (got.join("") === "first\nsecond\n") c.state = "CONTAINER_EXITED";
      });
      res.on("end", () => resolve());
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  await ended;
  assert.equal(got.join(""), "first\nsecond\n");
});
