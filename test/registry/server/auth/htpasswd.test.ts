import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import bcrypt from "bcryptjs";
import { FakeClock } from "../../../../src/clock/index.js";
import { isInvalidArgument } from "../../../../src/errdefs/index.js";
import { Htpasswd } from "../../../../src/registry/server/auth/htpasswd.js";
import { htpasswdLine } from "./helpers.js";

test("an htpasswd -B line verifies its password and nothing else", async (t) => {
  const { line, how } = await htpasswdLine("alice", "s3cret:with:colons");
  t.diagnostic(`htpasswd line written by ${how}`);
  assert.match(line, /^alice:\$2[aby]\$05\$/);
  const h = Htpasswd.parse(`${line}\n\n`);
  assert.deepEqual(h.users, ["alice"]);
  assert.equal(await h.verify("alice", "s3cret:with:colons"), true);
  assert.equal(await h.verify("alice", "s3cret"), false);
  assert.equal(await h.verify("alice", ""), false);
  assert.equal(await h.verify("bob", "s3cret:with:colons"), false);
});

test("$2a$, $2b$ and $2y$ hashes, comments, blank lines and CRLF are read", async () => {
  const b = await bcrypt.hash("pw-b", 4); // bcryptjs writes $2b$
  const text = [
    "# users",
    `a:${b.replace(/^\$2b\$/, "$2a$")}`,
    "",
    `  b:${b}  `,
    `y:${b.replace(/^\$2b\$/, "$2y$")}`,
  ].join("\r\n");
  const h = Htpasswd.parse(text);
  assert.deepEqual(h.users.sort(), ["a", "b", "y"]);
  for (const u of ["a", "b", "y"]) assert.equal(await h.verify(u, "pw-b"), true, u);
});

test("non-bcrypt entries are refused at load, naming file and line", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-htpasswd-"));
  try {
    const good = `ok:${await bcrypt.hash("x", 4)}`;
    const cases: [string, RegExp][] = [
      ["md5:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", /MD5 \(\$apr1\$\)/],
      ["sha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", /SHA-1/],
      ["plain:hunter2", /crypt or plain-text/],
      ["trunc:$2y$05$tooShort", /malformed bcrypt/],
      ["nocolon", /expected "user:hash"/],
    ];
    for (const [bad, want] of cases) {
      const path = join(dir, "htpasswd");
      await writeFile(path, `# comment\n${good}\n${bad}\n`);
      await assert.rejects(Htpasswd.load(path), (err: Error) => {
        assert.ok(isInvalidArgument(err), err.message);
        assert.ok(err.message.startsWith(`${path}:3: `), err.message);
        assert.match(err.message, want);
        return true;
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("successful checks are cached for the TTL, concurrent checks share one bcrypt run", async () => {
  const hash = await bcrypt.hash("pw", 10);
  const clock = new FakeClock(1_000_000);
  const timed = async (h: Htpasswd, pw: string): Promise<[boolean, number]> => {
    const t0 = performance.now();
    const ok = await h.verify("u", pw);
    return [ok, performance.now() - t0];
  };
  const h = Htpasswd.parse(`u:${hash}`, { clock, cacheTtlMs: 60_000 });
  // wrong passwords are never cached: this is the cost of one bcrypt run
  await timed(h, "wrong");
  const bcryptMs = Math.min((await timed(h, "wrong"))[1], (await timed(h, "wrong"))[1]);
  const [ok1] = await timed(h, "pw");
  assert.equal(ok1, true);
  const [ok2, cachedMs] = await timed(h, "pw");
  assert.equal(ok2, true);
  assert.ok(cachedMs < bcryptMs / 4, `cached check took ${cachedMs} ms, bcrypt ${bcryptMs} ms`);
  assert.equal((await timed(h, "wrong"))[0], false, "a cached success does not admit another password");

  clock.step(60_001);
  const [ok3, expiredMs] = await timed(h, "pw");
  assert.equal(ok3, true);
  assert.ok(expiredMs > bcryptMs / 3, `after the TTL the check runs bcrypt again (${expiredMs} ms vs ${bcryptMs} ms)`);

  const fresh = Htpasswd.parse(`u:${hash}`, { clock });
  const t0 = performance.now();
  const all = await Promise.all(Array.from({ length: 32 }, () => fresh.verify("u", "pw")));
  const parallelMs = performance.now() - t0;
  assert.ok(all.every((x) => x));
  assert.ok(parallelMs < bcryptMs * 8, `32 concurrent checks took ${parallelMs} ms, one bcrypt ${bcryptMs} ms`);
});

test("unknown users cost a bcrypt run too", async () => {
  const h = Htpasswd.parse(`u:${await bcrypt.hash("pw", 10)}`, { cacheTtlMs: 0 });
  await h.verify("nobody", "x"); // builds the dummy hash
  const t0 = performance.now();
  await h.verify("u", "x");
  const known = performance.now() - t0;
  const t1 = performance.now();
  assert.equal(await h.verify("nobody", "x"), false);
  const unknown = performance.now() - t1;
  assert.ok(unknown > known / 3, `unknown user ${unknown} ms, known user ${known} ms`);
});
