/**
 * The streams against the real runtime (OciRuntimeService with crun/runc and the busybox test
 * image): kubectl exec, exec -i, logs and port-forward reach a real container through the proxy.
 */
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { KUBECTL, kubectl as runKubectl, kubectlInTerminal, portForward } from "../../helpers/kubectl.js";
import { startKubeletStack } from "../../helpers/kubelet-stack.js";
import type { TestApi } from "../../helpers/test-api.js";
import { openRuntimeFixture, type RuntimeFixture } from "../../runtime/runtime-fixture.js";

let fx: RuntimeFixture | undefined;
let skip: string | undefined;

before(async () => {
  if (process.getuid?.() !== 0) skip = "needs root to run containers";
  else {
    try {
      await access(KUBECTL);
      fx = await openRuntimeFixture();
    } catch (err) {
      skip = `no container stack here: ${(err as Error).message}`;
    }
  }
});
after(async () => {
  await fx?.close();
});

function kubectl(api: TestApi, args: string[], stdin = ""): ReturnType<typeof runKubectl> {
  return runKubectl(api.env, args, stdin);
}

test("kubectl exec, exec -i, exec -it, logs and port-forward reach a real container", { timeout: 120_000 }, async (t) => {
  if (skip || !fx) {
    process.stderr.write(`skipping: ${skip}\n`);
    return t.skip(skip);
  }
  const s = await startKubeletStack(t, fx, { command: ["sh", "-c", "echo started; exec nc -lk -p 8080 -e echo pong"] });
  if (!s) return;
  const name = s.podName;

  const three = await kubectl(s.api, ["exec", name, "-c", "main", "--", "sh", "-c", "echo in-container; cat /proc/1/comm; exit 3"]);
  assert.equal(three.code, 3, three.stderr);
  assert.match(three.stdout, /^in-container\n/);

  const piped = await kubectl(s.api, ["exec", "-i", name, "-c", "main", "--", "sh", "-c", "tr a-z A-Z"], "shout\n");
  assert.equal(piped.stdout, "SHOUT\n", piped.stderr);

  // -it from a terminal: a shell prompt in the container's pty, the terminal's size, exit 3.
  // busybox's line editor asks where the cursor is (ESC[6n) after each prompt; no answer is
  // needed (an answer arriving with typed text makes it drop the text), so just type.
  const atPrompt = (screen: string): boolean => screen.split("\u001b[6n").join("").endsWith("# ");
  const { code: ttyCode, screen } = await kubectlInTerminal(t, s.api.env, ["exec", "-it", name, "-c", "main", "--", "sh"], { cols: 83, rows: 19 }, [
    { ready: atPrompt, type: "stty size\r" },
    { ready: (sc) => sc.includes("19 83\r\n") && atPrompt(sc), type: "exit 3\r" },
  ]);
  assert.match(screen, /19 83/);
  assert.equal(ttyCode, 3);

  const logs = await kubectl(s.api, ["logs", name, "-c", "main"]);
  assert.equal(logs.stdout, "started\n", logs.stderr);

  const { local } = await portForward(t, s.api.env, `pod/${name}`, 8080);
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port: local });
    let got = "";
    sock.on("data", (d: Buffer) => (got += d.toString()));
    sock.on("close", () => resolve(got));
    sock.on("error", reject);
  });
  assert.equal(reply, "pong\n");
});
