import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../../../../src/clock/index.js";
import { isInvalidArgument } from "../../../../src/errdefs/index.js";
import {
  keyID, newTokenID, REFRESH_TOKEN_TYPE, TokenSigner, verifyToken, type TokenClaims,
} from "../../../../src/registry/server/auth/token.js";

const NOW = 1_700_000_000;

function claims(over: Partial<TokenClaims> = {}): TokenClaims {
  return {
    iss: "issuer", sub: "alice", aud: "registry", iat: NOW, nbf: NOW, exp: NOW + 300, jti: newTokenID(),
    access: [{ type: "repository", name: "app", actions: ["pull"] }],
    ...over,
  };
}

function b64(v: unknown): string {
  return Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
}

test("sign and verify: header, claims, time window", () => {
  const signer = TokenSigner.generate();
  const clock = new FakeClock(NOW * 1000);
  const token = signer.sign(claims());
  const [h = "", , sig = ""] = token.split(".");
  assert.deepEqual(JSON.parse(Buffer.from(h, "base64url").toString()), { alg: "ES256", typ: "JWT", kid: signer.kid });
  assert.equal(Buffer.from(sig, "base64url").length, 64, "ES256 signatures are raw r||s");
  const opts = { keys: signer.publicKey, issuer: "issuer", audience: "registry", clock };
  assert.deepEqual(verifyToken(token, opts).access, [{ type: "repository", name: "app", actions: ["pull"] }]);
  assert.equal(verifyToken(token, opts).sub, "alice");
  assert.equal(verifyToken(signer.sign(claims({ aud: ["other", "registry"] })), opts).sub, "alice", "aud may be a list");

  clock.step(300_000);
  verifyToken(token, opts); // exp itself is still valid
  clock.step(1_000);
  assert.throws(() => verifyToken(token, opts), /token has expired/);
  assert.equal(verifyToken(token, { ...opts, leewaySeconds: 60 }).sub, "alice");

  const early = new FakeClock((NOW - 1) * 1000);
  assert.throws(() => verifyToken(token, { ...opts, clock: early }), /not valid yet/);
  assert.throws(() => verifyToken(token, { ...opts, issuer: "someone-else" }), /not a trusted issuer/);
  assert.throws(() => verifyToken(token, { ...opts, audience: "other-registry" }), /audience/);
  assert.throws(() => verifyToken(token, { ...opts, typ: REFRESH_TOKEN_TYPE }), /token type "JWT"/);
});

test("forged, tampered and confused tokens are refused", () => {
  const signer = TokenSigner.generate();
  const other = TokenSigner.generate();
  const opts = { keys: signer.publicKey, issuer: "issuer", audience: "registry", clock: new FakeClock(NOW * 1000) };
  const good = signer.sign(claims());
  const [h = "", p = "", s = ""] = good.split(".");

  // a more generous payload under the original signature
  const more = b64(claims({ access: [{ type: "repository", name: "app", actions: ["pull", "push"] }] }));
  assert.throws(() => verifyToken(`${h}.${more}.${s}`, opts), /signature is invalid/);
  // signed by another key that claims our kid
  const [, , otherSig = ""] = other.sign(claims()).split(".");
  assert.throws(() => verifyToken(`${h}.${p}.${otherSig}`, opts), /signature is invalid/);
  // signed by an unknown key, honestly labelled
  assert.throws(() => verifyToken(other.sign(claims()), opts), /unknown key/);
  // alg none
  const none = `${b64({ alg: "none", typ: "JWT", kid: signer.kid })}.${p}.`;
  assert.throws(() => verifyToken(none, opts), /compact JWS|unsupported algorithm/);
  assert.throws(() => verifyToken(`${b64({ alg: "none", typ: "JWT", kid: signer.kid })}.${p}.${s}`, opts), /unsupported algorithm "none"/);
  // HS256 keyed with the public key (algorithm confusion)
  const hsHeader = b64({ alg: "HS256", typ: "JWT", kid: signer.kid });
  const pem = signer.publicKey.export({ type: "spki", format: "pem" });
  const hsSig = createHmac("sha256", pem).update(`${hsHeader}.${p}`).digest("base64url");
  assert.throws(() => verifyToken(`${hsHeader}.${p}.${hsSig}`, opts), /unsupported algorithm "HS256"/);
  // critical extensions, garbage, wrong shapes
  const crit = signer.sign(claims());
  assert.throws(() => verifyToken(`${b64({ alg: "ES256", typ: "JWT", kid: signer.kid, crit: ["x"] })}.${crit.split(".")[1]}.${s}`, opts), /critical/);
  assert.throws(() => verifyToken("not-a-token", opts), /compact JWS/);
  assert.throws(() => verifyToken(`${h}.${p}`, opts), /compact JWS/);
  assert.throws(() => verifyToken(`${h}.${p}.${s}.x`, opts), /compact JWS/);
  const badAccess = signer.sign({ ...claims(), access: [{ type: "repository", name: "app", actions: "pull" }] } as unknown as TokenClaims);
  assert.throws(() => verifyToken(badAccess, opts), /access has a malformed entry/);
  const noExp = signer.sign({ ...claims(), exp: undefined } as unknown as TokenClaims);
  assert.throws(() => verifyToken(noExp, opts), /claim exp/);
  // a list of trusted keys finds the right one
  assert.equal(verifyToken(other.sign(claims()), { ...opts, keys: [signer.publicKey, other.publicKey] }).sub, "alice");
});

test("keys load from PEM (PKCS#8 and SEC1) with a stable kid; non-P-256 keys are refused", async () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" });
  const sec1 = privateKey.export({ type: "sec1", format: "pem" });
  const a = TokenSigner.fromPem(pkcs8);
  const b = TokenSigner.fromPem(sec1);
  assert.equal(a.kid, b.kid);
  assert.equal(a.kid, keyID(createPublicKey(privateKey)));
  assert.match(a.kid, /^[A-Za-z0-9_-]{43}$/);
  const opts = { keys: b.publicKey, issuer: "issuer", audience: "registry", clock: new FakeClock(NOW * 1000) };
  assert.equal(verifyToken(a.sign(claims()), opts).sub, "alice", "a token from one load verifies with the other");

  const dir = await mkdtemp(join(tmpdir(), "podyard-token-"));
  try {
    const path = join(dir, "key.pem");
    await writeFile(path, pkcs8);
    assert.equal((await TokenSigner.fromPemFile(path)).kid, a.kid);
    await writeFile(path, "not a key");
    await assert.rejects(TokenSigner.fromPemFile(path), (err: Error) => isInvalidArgument(err) && err.message.startsWith(`${path}: `));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  assert.throws(() => new TokenSigner(rsa), /expected an EC P-256 key for ES256, got rsa/);
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
  assert.throws(() => TokenSigner.fromPem(p384.export({ type: "pkcs8", format: "pem" })), /EC P-256/);
  assert.throws(() => new TokenSigner(createPublicKey(privateKey)), /expected a private key/);
});
