import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  const hash = await bcrypt.hash("pw", 4);
  const clock = new FakeClock(1_000_000);
  let runs = 0;
  const compare = (pw: string, h: string): Promise<boolean> => {
    runs++;
    return bcrypt.compare(pw, h);
  };
  const h = Htpasswd.parse(`u:${hash}`, { clock, cacheTtlMs: 60_000, compare });
  assert.equal(await h.verify("u", "wrong"), false);
  assert.equal(await h.verify("u", "wrong"), false);
  assert.equal(runs, 2, "wrong passwords are never cached");
  assert.equal(await h.verify("u", "pw"), true);
  assert.equal(await h.verify("u", "pw"), true);
  assert.equal(runs, 3, "a success is remembered");
  assert.equal(await h.verify("u", "wrong"), false, "a cached success does not admit another password");
  assert.equal(runs, 4);

  clock.step(59_999);
  assert.equal(await h.verify("u", "pw"), true);
  assert.equal(runs, 4, "still cached 1 ms before the TTL ends");
  clock.step(2);
  assert.equal(await h.verify("u", "pw"), true);
  assert.equal(runs, 5, "after the TTL the check runs bcrypt again");

  runs = 0;
  const fresh = Htpasswd.parse(`u:${hash}`, { clock, compare });
  const all = await Promise.all(Array.from({ length: 32 }, () => fresh.verify("u", "pw")));
  assert.ok(all.every((x) => x));
  assert.equal(runs, 1, "32 concurrent checks share one bcrypt run");
});

test("unknown users cost a bcrypt run too", async () => {
  let runs = 0;
  const compare = (pw: string, h: string): Promise<boolean> => {
    runs++;
    return bcrypt.compare(pw, h);
  };
  const h = Htpasswd.parse(`u:${await bcrypt.hash("pw", 4)}`, { cacheTtlMs: 0, compare });
  assert.equal(await h.verify("u", "x"), false);
  assert.equal(await h.verify("nobody", "x"), false);
  assert.equal(runs, 2, "the unknown user is checked against a dummy hash, as long as a known one");
});
