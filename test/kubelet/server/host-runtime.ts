/**
 * A RuntimeService for protocol tests: a "container" is a temp directory on the host, exec runs
 * the command there (through node-pty with a TTY), attach talks to a `cat` started per container,
 * and portForward dials a loopback port the test names.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import pty from "@lydell/node-pty";
import type { AttachRequest, ContainerState, ContainerStats, ContainerStatusResponse, ExecRequest, RuntimeService, StreamIO } from "../../../src/runtime/index.js";

export interface HostContainer {
  id: string;
  name: string;
  podName: string;
  namespace: string;
  sandboxId: string;
  dir: string;
  logPath: string;
  state: ContainerState;
}

function unsupported(name: string): () => never {
  return () => {
    throw new Error(`host test runtime: ${name} is not part of these tests`);
  };
}

export class HostRuntime implements RuntimeService {
  readonly containers = new Map<string, HostContainer>();
  /** Sandbox port → the loopback port portForward dials instead. */
  readonly ports = new Map<number, number>();
  readonly #main = new Map<string, ChildProcess>();

  add(c: HostContainer): void {
    this.containers.set(c.id, c);
  }

  /** Kills the attach targets it started (a `cat` per container, ended by the first attach's stdin EOF). */
  close(): void {
    for (const p of this.#main.values()) p.kill("SIGKILL");
  }

  version = unsupported("version");
  status = unsupported("status");
  runPodSandbox = unsupported("runPodSandbox");
  stopPodSandbox = unsupported("stopPodSandbox");
  removePodSandbox = unsupported("removePodSandbox");
  podSandboxStatus = unsupported("podSandboxStatus");
  createContainer = unsupported("createContainer");
  startContainer = unsupported("startContainer");
  stopContainer = unsupported("stopContainer");
  removeContainer = unsupported("removeContainer");
  execSync = unsupported("execSync");
  reopenContainerLog = unsupported("reopenContainerLog");

  listPodSandbox: RuntimeService["listPodSandbox"] = async () => {
    const seen = new Map<string, HostContainer>();
    for (const c of this.containers.values()) seen.set(c.sandboxId, c);
    return [...seen.values()].map((c) => ({ id: c.sandboxId, metadata: { name: c.podName, namespace: c.namespace, uid: `uid-${c.podName}`, attempt: 0 }, state: "SANDBOX_READY", createdAt: 0n, labels: {}, annotations: {} }));
  };

  listContainers: RuntimeService["listContainers"] = async (filter) =>
    [...this.containers.values()]
      .filter((c) => !filter?.state || filter.state.state === c.state)
      .map((c) => ({ id: c.id, podSandboxId: c.sandboxId, metadata: { name: c.name }, image: { image: "host" }, imageRef: "host", state: c.state, createdAt: 0n, labels: {}, annotations: {} }));

  async containerStatus(id: string): Promise<ContainerStatusResponse> {
    const c = this.#get(id);
    return {
      status: { id, metadata: { name: c.name }, state: c.state, createdAt: 0n, startedAt: 0n, finishedAt: 0n, exitCode: 0, image: { image: "host" }, imageRef: "host", reason: "", message: "", labels: {}, annotations: {}, mounts: [], logPath: c.logPath },
      info: {},
    };
  }

  async containerStats(id: string): Promise<ContainerStats> {
    return { attributes: { id, metadata: { name: this.#get(id).name }, labels: {}, annotations: {} } };
  }

  listContainerStats: RuntimeService["listContainerStats"] = async () => Promise.all([...this.containers.keys()].map((id) => this.containerStats(id)));

  #get(id: string): HostContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container "${id}" not found`);
    return c;
  }

  async exec(req: ExecRequest, io: StreamIO): Promise<number> {
    const c = this.#get(req.containerId);
    const [file, ...args] = req.cmd;
    if (!file) throw new Error("no command");
    if (req.tty) return this.#execTty(c, file, args, io);
    return new Promise<number>((resolve, reject) => {
      const child = spawn(file, args, { cwd: c.dir, stdio: [req.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
      child.once("error", (err: NodeJS.ErrnoException) => {
        reject(err.code === "ENOENT" ? new Error(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${file}": executable file not found in $PATH`) : err);
      });
      if (child.stdin && io.stdin) {
        child.stdin.on("error", () => undefined);
        io.stdin.pipe(child.stdin);
      }
      if (io.stdout) child.stdout?.pipe(io.stdout, { end: false });
      else child.stdout?.resume();
      if (io.stderr) child.stderr?.pipe(io.stderr, { end: false });
      else child.stderr?.resume();
      const kill = (): void => void child.kill("SIGKILL");
      io.signal?.addEventListener("abort", kill, { once: true });
      child.once("close", (code, signal) => {
        io.signal?.removeEventListener("abort", kill);
        resolve(code ?? (signal ? 128 + 9 : 1));
      });
    });
  }

  #execTty(c: HostContainer, file: string, args: string[], io: StreamIO): Promise<number> {
    const term = pty.spawn(file, args, { cwd: c.dir, cols: 80, rows: 24, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm" } });
    io.stdin?.on("data", (d: Buffer) => term.write(d.toString("utf8")));
    void (async () => {
      if (!io.resize) return;
      for await (const size of io.resize) if (size.width > 0 && size.height > 0) term.resize(size.width, size.height);
    })();
    term.onData((d) => io.stdout?.write(d));
    return new Promise((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  }

  async attach(req: AttachRequest, io: StreamIO): Promise<void> {
    const c = this.#get(req.containerId);
    let main = this.#main.get(c.id);
    if (!main) {
      main = spawn("cat", [], { cwd: c.dir, stdio: ["pipe", "pipe", "pipe"] });
      this.#main.set(c.id, main);
    }
    const proc = main;
    const onOut = (d: Buffer): void => void io.stdout?.write(d);
    proc.stdout?.on("data", onOut);
    await new Promise<void>((resolve) => {
      const detach = (): void => {
        proc.stdout?.off("data", onOut);
        resolve();
      };
      // The end of the client's stdin ends cat's, so its last output is out before the detach.
      if (io.stdin) {
        io.stdin.on("data", (d: Buffer) => proc.stdin?.write(d));
        io.stdin.once("end", () => proc.stdin?.end());
      }
      proc.once("close", detach);
    });
  }

  async portForward(_sandboxId: string, port: number): Promise<Duplex> {
    const target = this.ports.get(port);
    if (target === undefined) throw new Error(`failed to connect to localhost:${port} inside namespace: connection refused`);
    const sock = connect({ host: "127.0.0.1", port: target });
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", reject);
    });
    return sock;
  }
}
