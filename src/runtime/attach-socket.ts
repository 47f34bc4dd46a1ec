/**
 * attach with stdin, through conmon's attach socket (`<bundle>/attach`). That socket is
 * SOCK_SEQPACKET, which Node cannot open, so a small Perl relay (perl-base is Essential on
 * Debian, always there) connects it and speaks conmon's framing: each packet conmon sends
 * starts with a byte naming the stream (2 stdout, 3 stderr: 1 is stdin); what the client sends is written
 * as is into the container's stdin. The client's end of stdin becomes a shutdown of the
 * socket's sending half, on which conmon closes the container's stdin (unless the container
 * was made without stdinOnce: conmon was then started with --leave-stdin-open).
 */
import { spawn } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { UnavailableError } from "../errdefs/index.js";
import type { AttachRequest, StreamIO } from "./cri.js";

export const PERL = "perl";

/** chdir first: the bundle's path may be longer than a sockaddr_un's 108 bytes. Container stdout goes to fd 1, stderr to fd 3. */
const RELAY = String.raw`
use strict; use Socket; use IO::Select;
chdir($ARGV[0]) or die "chdir $ARGV[0]: $!\n";
socket(my $s, PF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!\n";
connect($s, pack_sockaddr_un("attach")) or die "connect to the attach socket: $!\n";
open(my $err, ">&=", 3) or die "fd 3: $!\n";
my $sel = IO::Select->new($s, \*STDIN);
while (my @ready = $sel->can_read) {
  for my $fh (@ready) {
    my $buf;
    if ($fh == $s) {
      my $n = sysread($s, $buf, 8193);
      exit 0 unless $n;
      my $out = ord(substr($buf, 0, 1)) == 3 ? $err : \*STDOUT;
      my $data = substr($buf, 1);
      while (length $data) { my $w = syswrite($out, $data); exit 0 unless defined $w; substr($data, 0, $w) = ""; }
    } else {
      my $n = sysread(STDIN, $buf, 8192);
      if (!$n) { shutdown($s, 1); $sel->remove(\*STDIN); next; }
      while (length $buf) { my $w = syswrite($s, $buf); exit 0 unless defined $w; substr($buf, 0, $w) = ""; }
    }
  }
}
`;

/** conmon's control fifo: `1 HEIGHT WIDTH` resizes the container's terminal. */
async function resizeLoop(ctl: string, io: StreamIO, open_: () => boolean): Promise<void> {
  if (!io.resize) return;
  for await (const size of io.resize) {
    if (!open_()) return;
    const fh = await open(ctl, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).catch(() => undefined);
    if (!fh) return;
    await fh.write(`1 ${Math.max(1, size.height)} ${Math.max(1, size.width)}\n`).catch(() => undefined);
    await fh.close();
  }
}

/** Relays the client's streams to the container's stdio until the container exits or the client leaves. */
export function attachThroughSocket(bundle: string, req: AttachRequest, io: StreamIO): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PERL, ["-e", RELAY, bundle], { stdio: ["pipe", "pipe", "pipe", "pipe"] });
    let running = true;
    let stderr = "";
    const childIn = child.stdin;
    childIn.on("error", () => undefined);
    const stdin = req.stdin ? io.stdin : undefined;
    const onData = (d: Buffer | string): void => {
      childIn.write(d);
    };
    const onEnd = (): void => {
      childIn.end();
    };
    const stop = (): void => {
      if (running) child.kill("SIGKILL");
    };
    const out = req.stdout ? io.stdout : undefined;
    // with a TTY conmon sends everything as stdout; without one, stderr goes where the client wants it
    const errOut = req.stderr ? (io.tty ? io.stdout : io.stderr) : undefined;
    child.stdout.on("data", (d: Buffer) => out?.write(d));
    (child.stdio[3] as Readable).on("data", (d: Buffer) => errOut?.write(d));
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    // the pipe holds what the client sends until the relay is connected and reads it
    stdin?.on("data", onData);
    stdin?.once("end", onEnd);
    stdin?.once("close", onEnd);
    for (const w of [io.stdout, io.stderr]) (w as Writable | undefined)?.once?.("close", stop);
    io.signal?.addEventListener("abort", stop, { once: true });
    void resizeLoop(join(bundle, "ctl"), io, () => running);
    child.on("error", (err) => {
      running = false;
      reject(new UnavailableError(`attach: cannot run ${PERL}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      running = false;
      stdin?.removeListener("data", onData);
      stdin?.removeListener("end", onEnd);
      stdin?.removeListener("close", onEnd);
      io.signal?.removeEventListener("abort", stop);
      for (const w of [io.stdout, io.stderr]) (w as Writable | undefined)?.removeListener?.("close", stop);
      if (code === 0 || signal === "SIGKILL") resolve();
      else reject(new UnavailableError(`attach to ${bundle}: ${stderr.trim() || `relay exited ${code ?? signal}`}`));
    });
  });
}
