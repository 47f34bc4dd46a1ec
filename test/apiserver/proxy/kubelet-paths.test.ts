import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../../../src/api/index.js";
import { logPath, portForwardPath, streamPath } from "../../../src/apiserver/proxy/kubelet-paths.js";

const pod: Pod = { metadata: { name: "web", namespace: "team a" }, spec: { containers: [{ name: "main", image: "i" }] } };

test("exec and attach become the kubelet's paths with command repeated and input/output/error/tty", () => {
  const q = new URLSearchParams("command=sh&command=-c&command=exit 3&container=main&stdin=true&stdout=true&stderr=false&tty=true");
  assert.equal(streamPath(pod, "exec", "main", q), "/exec/team%20a/web/main?command=sh&command=-c&command=exit+3&input=1&output=1&tty=1");
  assert.equal(streamPath(pod, "attach", "main", q), "/attach/team%20a/web/main?input=1&output=1&tty=1");
});

test("logs keep the kubelet's query names; false flags and empty values are left out", () => {
  const q = new URLSearchParams("container=main&follow=true&previous=false&timestamps=true&tailLines=10&sinceSeconds=&limitBytes=100&insecureSkipTLSVerifyBackend=true");
  assert.equal(logPath(pod, "main", q), "/containerLogs/team%20a/web/main?follow=true&timestamps=true&tailLines=10&limitBytes=100");
  assert.equal(logPath(pod, "main", new URLSearchParams()), "/containerLogs/team%20a/web/main");
});

test("portforward carries the ports it was given", () => {
  assert.equal(portForwardPath(pod, new URLSearchParams("ports=8080&ports=9090")), "/portForward/team%20a/web?port=8080&port=9090");
  assert.equal(portForwardPath(pod, new URLSearchParams()), "/portForward/team%20a/web");
});
