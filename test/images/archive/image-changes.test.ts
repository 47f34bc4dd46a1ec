import { test } from "node:test";
import assert from "node:assert/strict";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { applyChanges, type ContainerConfig } from "../../../src/images/index.js";

const cases: { changes: string[]; want: ContainerConfig }[] = [
  { changes: ['CMD ["/bin/sh", "-c", "echo hi"]'], want: { Cmd: ["/bin/sh", "-c", "echo hi"] } },
  { changes: ["CMD echo hi"], want: { Cmd: ["/bin/sh", "-c", "echo hi"] } },
  { changes: ['entrypoint ["/init"]'], want: { Entrypoint: ["/init"] } },
  { changes: ['ENV A=1 B="two words" C=x\\ y', "ENV A=3"], want: { Env: ["A=3", "B=two words", "C=x y"] } },
  { changes: ["ENV LEGACY some value"], want: { Env: ["LEGACY=some value"] } },
  { changes: ['LABEL org.example.team=core "version"="1.0"'], want: { Labels: { "org.example.team": "core", version: "1.0" } } },
  { changes: ["EXPOSE 80 53/udp"], want: { ExposedPorts: { "80/tcp": {}, "53/udp": {} } } },
  { changes: ["USER 1000:1000", "WORKDIR /srv", "STOPSIGNAL SIGTERM"], want: { User: "1000:1000", WorkingDir: "/srv", StopSignal: "SIGTERM" } },
  { changes: ['VOLUME ["/data"]', "VOLUME /logs /tmp/x"], want: { Volumes: { "/data": {}, "/logs": {}, "/tmp/x": {} } } },
];

for (const c of cases) {
  void test(`applyChanges ${JSON.stringify(c.changes)}`, () => {
    assert.deepEqual(applyChanges({}, c.changes), c.want);
  });
}

void test("applyChanges keeps what it is given and refuses unknown or malformed instructions", () => {
  assert.deepEqual(applyChanges({ Env: ["PATH=/bin"] }, ["ENV HOME=/root"]), { Env: ["PATH=/bin", "HOME=/root"] });
  for (const bad of ["RUN make", "CMD", 'CMD ["a", 1]', "EXPOSE http", 'ENV A="open', "=x"]) {
    assert.throws(() => applyChanges({}, [bad]), (err) => isInvalidArgument(err), bad);
  }
});
