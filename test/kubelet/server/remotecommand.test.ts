import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { connect } from "node:tls";
import { test } from "node:test";
import { collect, startKubelet, text } from "./fixture.js";

const q = (cmd: string[], flags: string): string => `${cmd.map((c) => `command=${encodeURIComponent(c)}`).join("&")}&${flags}`;

test("v5 exec: stdout and stderr on channels 1 and 2, NonZeroExitCode with the exit code on 3, then close 1000", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/exec/default/web/main?${q(["sh", "-c", "echo out; echo err >&2; exit 3"], "output=1&error=1")}`, ["v5.channel.k8s.io"]);
  const tr = await collect(ws);
  assert.equal(tr.protocol, "v5.channel.k8s.io");
  assert.equal(text(tr, 1), "out\n");
  assert.equal(text(tr, 2), "err\n");
  const status = JSON.parse(text(tr, 3));
  assert.equal(status.status, "Failure");
  assert.equal(status.reason, "NonZeroExitCode");
  assert.deepEqual(status.details.causes, [{ reason: "ExitCode", message: "3" }]);
  assert.equal(tr.closeCode, 1000);
});

test("v5 stdin: data on channel 0, then CLOSE [255,0] ends the input; a zero exit is Success", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/exec/default/web/main?${q(["cat"], "input=1&output=1&error=1")}`, ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
  const tr = await collect(ws, (w) => {
    w.send(Buffer.concat([Buffer.from([0]), Buffer.from("hello\n")]));
    w.send(Buffer.from([255, 0]));
  });
  assert.equal(text(tr, 1), "hello\n");
  assert.deepEqual(JSON.parse(text(tr, 3)), { metadata: {}, status: "Success" });
});

test("the API's stream names (stdin/stdout/stderr=true) are accepted too, and v4 is chosen when v5 is not offered", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/exec/default/web/main?${q(["sh", "-c", "pwd"], "stdout=true&stderr=true")}`, ["v4.channel.k8s.io", "v3.channel.k8s.io"]);
  const tr = await collect(ws);
  assert.equal(tr.protocol, "v4.channel.k8s.io");
  assert.equal(text(tr, 1).trim(), k.dir);
  assert.equal(JSON.parse(text(tr, 3)).status, "Success");
});

test("channel.k8s.io (v1): a failure is plain text on channel 3, success sends nothing there", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const bad = await collect(k.ws(`/exec/default/web/main?${q(["sh", "-c", "exit 2"], "output=1")}`, ["channel.k8s.io"]));
  assert.equal(bad.protocol, "channel.k8s.io");
  assert.match(text(bad, 3), /exit code 2/);
  const good = await collect(k.ws(`/exec/default/web/main?${q(["true"], "output=1")}`, ["channel.k8s.io"]));
  assert.equal(good.channels.has(3), false);
});

test("a missing executable is an InternalError status naming it, as kubectl prints it", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const tr = await collect(k.ws(`/exec/default/web/main?${q(["no-such-tool"], "output=1&error=1")}`, ["v5.channel.k8s.io"]));
  const status = JSON.parse(text(tr, 3));
  assert.equal(status.reason, "InternalError");
  assert.equal(status.code, 500);
  assert.match(status.message, /"no-such-tool": executable file not found in \$PATH/);
});

test("an unknown container, or one the kubelet refuses, is a JSON Status before any upgrade", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  await assert.rejects(collect(k.ws(`/exec/default/web/ghost?${q(["true"], "output=1")}`, ["v5.channel.k8s.io"])), (err: { status: number; body: string }) => {
    assert.equal(err.status, 404);
    assert.equal(JSON.parse(err.body).kind, "Status");
    return true;
  });
  k.refusals.set("default/web/side", { code: 400, reason: "BadRequest", message: `container "side" in pod "web" is waiting to start: ContainerCreating` });
  await assert.rejects(collect(k.ws(`/exec/default/web/side?${q(["true"], "output=1")}`, ["v5.channel.k8s.io"])), (err: { status: number; body: string }) => {
    assert.equal(err.status, 400);
    assert.equal(JSON.parse(err.body).message, `container "side" in pod "web" is waiting to start: ContainerCreating`);
    return true;
  });
  await assert.rejects(collect(k.ws(`/exec/default/web/main?${q(["true"], "output=1")}`, ["v9.channel.k8s.io"])), (err: { status: number }) => err.status === 400);
});

test("a SPDY upgrade attempt (kubectl's fallback) gets a JSON Status it can print", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port: k.port, ca: k.pki.ca, cert: k.pki.clientCert, key: k.pki.clientKey }, () => {
      sock.write(`POST /exec/default/web/ghost?command=true&output=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n`);
    });
    let out = "";
    sock.on("data", (d: Buffer) => (out += d.toString()));
    sock.on("end", () => resolve(out));
    sock.on("error", reject);
  });
  assert.match(reply, /^HTTP\/1\.1 404 /);
  assert.equal(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)).kind, "Status");
});

test("TTY exec runs in a pty: resize on channel 4 sets the terminal size, and the exit code comes back", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/exec/default/web/main?${q(["sh", "-c", "echo ready; read x; stty size; exit 3"], "input=1&output=1&tty=1")}`, ["v5.channel.k8s.io"]);
  const tr = await collect(ws, (w) => {
    w.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":0,"Height":0}\n')]));
    w.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":100,"Height":30}\n')]));
    // Typing waits for the shell, as a user does; the sizes sent before it are applied by then.
    let typed = false;
    w.on("message", (d: Buffer) => {
      if (!typed && d[0] === 1 && d.toString().includes("ready")) {
        typed = true;
        w.send(Buffer.concat([Buffer.from([0]), Buffer.from("go\r")]));
      }
    });
  });
  assert.match(text(tr, 1), /30 100/);
  assert.equal(tr.channels.has(2), false);
  assert.deepEqual(JSON.parse(text(tr, 3)).details.causes, [{ reason: "ExitCode", message: "3" }]);
});

test("attach joins the container's main process: stdin goes in, output comes back, closing stdin detaches", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/attach/default/web/main?input=1&output=1`, ["v5.channel.k8s.io"]);
  const tr = await collect(ws, (w) => {
    w.send(Buffer.concat([Buffer.from([0]), Buffer.from("ping\n")]));
    w.on("message", (d: Buffer) => {
      if (d[0] === 1) w.send(Buffer.from([255, 0]));
    });
  });
  assert.equal(text(tr, 1), "ping\n");
  assert.equal(JSON.parse(text(tr, 3)).status, "Success");
});

test("a client that goes away mid-exec aborts the stream's signal, so the runtime kills the process", { timeout: 20_000 }, async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const pidFile = `${k.dir}/sleep.pid`;
  const ws = k.ws(`/exec/default/web/main?${q(["sh", "-c", `echo $$ > ${pidFile}; echo started; exec sleep 1000`], "output=1")}`, ["v5.channel.k8s.io"]);
  ws.on("message", (d: Buffer) => {
    if (d.toString().includes("started")) ws.terminate();
  });
  await new Promise((resolve) => ws.once("close", resolve));
  const pid = Number((await readFile(pidFile, "utf8")).trim());
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(pid > 0);
});

test("pings are answered during a stream (kubectl's 61 s read deadline moves only on pongs)", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/exec/default/web/main?${q(["cat"], "input=1&output=1")}`, ["v5.channel.k8s.io"]);
  const pong = new Promise<string>((resolve) => ws.once("pong", (d: Buffer) => resolve(d.toString())));
  const tr = collect(ws, (w) => w.ping(Buffer.from("are-you-there")));
  assert.equal(await pong, "are-you-there");
  ws.send(Buffer.from([255, 0]));
  assert.equal(JSON.parse(text(await tr, 3)).status, "Success");
});

test("v4.base64.channel.k8s.io (browsers): text frames with an ASCII channel digit and base64 data", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const ws = k.ws(`/exec/default/web/main?${q(["sh", "-c", "cat; exit 5"], "input=1&output=1")}`, ["v4.base64.channel.k8s.io"]);
  const frames: string[] = [];
  ws.on("open", () => {
    ws.send(`0${Buffer.from("b64\n").toString("base64")}`);
  });
  ws.on("message", (d: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    frames.push(d.toString());
    if (frames.length === 1) ws.close(1000);
  });
  await new Promise((resolve) => ws.once("close", resolve));
  assert.equal(ws.protocol, "v4.base64.channel.k8s.io");
  assert.equal(frames[0], `1${Buffer.from("b64\n").toString("base64")}`);
});
