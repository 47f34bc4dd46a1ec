import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { constants, createDeflate, createInflate } from "node:zlib";
import { SPDY_HEADER_DICTIONARY } from "../../../../src/kubelet/server/spdy/dictionary.js";
import { controlFrame, dataFrame, FLAG_FIN, FrameReader, FrameType, u32 } from "../../../../src/kubelet/server/spdy/frames.js";
import { decodeHeaderBlock, encodeHeaderBlock } from "../../../../src/kubelet/server/spdy/header-codec.js";
import { SpdySession, type SpdyStream } from "../../../../src/kubelet/server/spdy/index.js";

/** The client's side of header compression: one zlib context, sync-flushed per block, as Go's spdy framer does. */
function zlibPeer(kind: "deflate" | "inflate"): (b: Buffer) => Promise<Buffer> {
  const z = kind === "deflate" ? createDeflate({ dictionary: SPDY_HEADER_DICTIONARY }) : createInflate({ dictionary: SPDY_HEADER_DICTIONARY });
  return (b) =>
    new Promise((resolve) => {
      const out: Buffer[] = [];
      const on = (d: Buffer): void => void out.push(d);
      z.on("data", on);
      z.write(b);
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off("data", on);
        resolve(Buffer.concat(out));
      });
    });
}

test("the header dictionary is the SPDY/3 one (1423 bytes, zlib id 0xe3c6a7c2)", () => {
  assert.equal(SPDY_HEADER_DICTIONARY.length, 1423);
  assert.ok(SPDY_HEADER_DICTIONARY.subarray(-6).equals(Buffer.from("enq=0.")));
  const deflated = createDeflate({ dictionary: SPDY_HEADER_DICTIONARY });
  const chunks: Buffer[] = [];
  deflated.on("data", (d: Buffer) => chunks.push(d));
  return new Promise<void>((resolve) => {
    deflated.end(Buffer.from("x"), () => {
      // zlib header: FDICT set, then the dictionary's Adler-32.
      assert.equal(Buffer.concat(chunks).readUInt32BE(2), 0xe3c6a7c2);
      resolve();
    });
  });
});

test("frames are cut from a byte stream in any chunking; header blocks round-trip", () => {
  const bytes = Buffer.concat([controlFrame(FrameType.PING, 0, u32(1)), dataFrame(3, FLAG_FIN, Buffer.from("abc"))]);
  const reader = new FrameReader();
  const frames = [...bytes].flatMap((b) => reader.push(Buffer.from([b])));
  assert.deepEqual(frames.map((f) => (f.control ? `ctl ${f.type}` : `data ${f.streamId} ${f.flags} ${f.data.toString()}`)), ["ctl 6", "data 3 1 abc"]);
  const headers = new Map([["streamtype", "data"], ["port", "8080"], ["requestid", "0"]]);
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock(headers)), headers);
});

test("a session answers SYN_STREAM with SYN_REPLY, echoes pings, delivers data and FIN", { timeout: 10_000 }, async () => {
  const wire = new PassThrough();
  const back: Buffer[] = [];
  const conn = new (await import("node:stream")).Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      back.push(chunk);
      cb();
    },
  });
  wire.on("data", (d: Buffer) => conn.push(d));
  const streams: SpdyStream[] = [];
  const got: (string | null)[] = [];
  let finished: () => void = () => undefined;
  const fin = new Promise<void>((resolve) => (finished = resolve));
  const session = new SpdySession(conn, (s) => {
    streams.push(s);
    s.onData = (d) => {
      got.push(d === null ? null : d.toString());
      if (d === null) finished();
    };
  });
  const deflate = zlibPeer("deflate");
  const inflate = zlibPeer("inflate");
  const block = await deflate(encodeHeaderBlock(new Map([["streamtype", "data"], ["port", "80"], ["requestid", "7"]])));
  wire.write(controlFrame(FrameType.SYN_STREAM, 0, Buffer.concat([u32(1, 0), Buffer.from([0, 0]), block])));
  wire.write(controlFrame(FrameType.PING, 0, u32(5)));
  wire.write(dataFrame(1, 0, Buffer.from("hi")));
  wire.write(dataFrame(1, FLAG_FIN, Buffer.alloc(0)));
  await fin;
  assert.deepEqual(streams[0]?.headers, new Map([["streamtype", "data"], ["port", "80"], ["requestid", "7"]]));
  assert.deepEqual(got, ["hi", null]);
  streams[0]?.write(Buffer.from("yo"));
  streams[0]?.end();
  const frames = new FrameReader().push(Buffer.concat(back));
  const reply = frames[0];
  assert.ok(reply?.control && reply.type === FrameType.SYN_REPLY);
  assert.equal(reply.payload.readUInt32BE(0), 1);
  assert.equal(decodeHeaderBlock(await inflate(reply.payload.subarray(4))).size, 0);
  const rest = frames.slice(1).map((f) => (f.control ? `ctl ${f.type} ${f.payload.readUInt32BE(0)}` : `data ${f.streamId} ${f.flags} ${f.data.toString()}`));
  assert.deepEqual(rest, ["ctl 6 5", "data 1 0 yo", "data 1 1 "]);
  session.close();
});

test("a connection that sends garbage header blocks is closed, and nothing throws", { timeout: 10_000 }, async () => {
  const { Duplex } = await import("node:stream");
  let destroyed = false;
  const conn = new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb();
    },
    destroy(err, cb) {
      destroyed = true;
      cb(err);
    },
  });
  new SpdySession(conn, () => assert.fail("no stream from garbage"));
  conn.push(controlFrame(FrameType.SYN_STREAM, 0, Buffer.concat([u32(1, 0), Buffer.from([0, 0]), Buffer.from("not zlib at all")])));
  for (let i = 0; i < 200 && !destroyed; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(destroyed, true);
});
