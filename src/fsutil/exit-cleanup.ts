/**
 * Files that must not outlive the process that made them (a temporary file not yet
 * renamed into place, the lock's PID file): removed by an `exit` listener, so they go
 * when a command ends through `process.exit` (as a signal does in the CLI, see
 * exitOnSignals) before its own cleanup could run. A crash or SIGKILL still leaves them;
 * they are named so that fsck and the next writer recognise them.
 */
import { rmSync } from "node:fs";
import { constants } from "node:os";

const paths = new Set<string>();
let listening = false;

/** Removes `path` if the process exits while it is registered; the returned function unregisters it. */
export function removeOnExit(path: string): () => void {
  if (!listening) {
    listening = true;
    process.on("exit", () => {
      for (const p of paths) rmSync(p, { force: true });
    });
  }
  paths.add(path);
  return () => paths.delete(path);
}

/**
 * Until the returned function is called, SIGINT, SIGTERM and SIGHUP end the process with
 * 128 + the signal's number (130 for ^C), as a shell reports a killed command, through
 * `process.exit`, so the files registered with removeOnExit go and locks are released.
 * Without a listener, Node dies of the signal and runs no `exit` listener.
 */
export function exitOnSignals(): () => void {
  const listeners = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => {
    const listener = (): never => process.exit(128 + constants.signals[signal]);
    process.once(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  };
}
