import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import { collect, startKubelet } from "./fixture.js";

test("portForward over a plain WebSocket (portforward.k8s.io): each channel opens with its port, data goes both ways", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const pod = createServer((s) => s.on("data", (d: Buffer) => s.write(`echo:${d.toString()}`)));
  await new Promise<void>((resolve) => pod.listen(0, "127.0.0.1", resolve));
  t.after(() => pod.close());
  k.runtime.ports.set(8080, (pod.address() as AddressInfo).port);
  const ws = k.ws("/portForward/default/web?port=8080", ["portforward.k8s.io"]);
  const tr = await collect(ws, (w) => {
    let seen = 0;
    w.on("message", (d: Buffer) => {
      if (++seen === 2) w.send(Buffer.concat([Buffer.from([0]), Buffer.from("hi")]));
      if (d[0] === 0 && d.subarray(1).toString().startsWith("echo:")) w.close(1000);
    });
  });
  assert.equal(tr.protocol, "portforward.k8s.io");
  const data = tr.channels.get(0) ?? Buffer.alloc(0);
  assert.equal(data.readUInt16LE(0), 8080);
  assert.equal(data.subarray(2).toString(), "echo:hi");
  assert.equal(tr.channels.get(1)?.readUInt16LE(0), 8080);
});

test("portForward with no port, or to an unknown pod, is refused before the upgrade", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  await assert.rejects(collect(k.ws("/portForward/default/web", ["portforward.k8s.io"])), (e: { status: number; body: string }) => {
    assert.equal(e.status, 400);
    assert.equal(JSON.parse(e.body).message, `query parameter "port" is required`);
    return true;
  });
  await assert.rejects(collect(k.ws("/portForward/default/nope?port=1", ["portforward.k8s.io"])), (e: { status: number }) => e.status === 404);
});
