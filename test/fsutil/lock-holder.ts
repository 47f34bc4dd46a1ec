/**
 * A process that takes a home lock, for the lock tests: `node --import tsx lock-holder.ts
 * PATH MODE [--shared]`. It prints `waiting` if it has to wait, `locked` once it holds the
 * lock, then by MODE:
 * - `stdin`: releases and exits when a line arrives on stdin;
 * - `forever`: holds it until killed;
 * - `turn:DIR`: creates DIR/inside exclusively (printing `overlap` if another holder's is
 *   there), waits a little, removes it, releases and exits.
 */
import { openSync, closeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { realClock } from "../../src/clock/index.js";
import { acquireLock } from "../../src/fsutil/index.js";

const [path = "", mode = "stdin", flag] = process.argv.slice(2);
const release = await acquireLock(path, { clock: realClock, pollMs: 5, shared: flag === "--shared",
  onWait: () => process.stdout.write("waiting\n"),
});
process.stdout.write("locked\n");
if (mode === "stdin") {
  process.stdin.once("data", () => {
    release();
    process.exit(0);
  });
} else if (mode === "forever") {
  setInterval(() => {}, 1_000_000);
} else if (mode.startsWith("turn:")) {
  const inside = join(mode.slice("turn:".length), "inside");
  let mine = false;
  try {
    closeSync(openSync(inside, "wx"));
    mine = true;
  } catch {
    process.stdout.write("overlap\n");
  }
  await new Promise((r) => setTimeout(r, 20));
  if (mine) rmSync(inside);
  release();
  process.stdout.write("done\n");
}
