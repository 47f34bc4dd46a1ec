import { test } from "node:test";
import assert from "node:assert/strict";
import { ERROR_CLASSES, errorClass, isNotFound, newError, PodyardError } from "../../../src/errdefs/index.js";
import {
  CLASS_WIRE, classForStatus, errorBody, OCI_CODES, ociErrorCode, RegistryError, toRegistryError, wireCode,
} from "../../../src/registry/api/index.js";

test("every error class errdefs defines maps to a registered OCI code and an error status", () => {
  assert.equal(Object.keys(CLASS_WIRE).length, ERROR_CLASSES.length, "CLASS_WIRE lists each class once");
  for (const cls of ERROR_CLASSES) {
    const wire = CLASS_WIRE[cls];
    assert.ok(wire, `${cls} has a wire mapping`);
    assert.ok(Object.hasOwn(OCI_CODES, wire.code), `${cls} → ${wire.code} is a registered code`);
    assert.ok(wire.status >= 400 && wire.status < 600, `${cls} → status ${wire.status}`);
    const e = toRegistryError(newError(cls, `a ${cls} error`));
    assert.equal(e.ociCode, wire.code, cls);
    assert.equal(e.status, wire.status, cls);
    assert.equal(e.message, `a ${cls} error`, `${cls} keeps its message`);
    assert.equal(errorClass(e), cls, `${cls} keeps its class through the edge`);
  }
});

test("only Internal becomes a 500: FailedPrecondition and AlreadyExists are client-visible conflicts", () => {
  for (const cls of ERROR_CLASSES) {
    const { status } = CLASS_WIRE[cls];
    if (cls === "Internal") assert.equal(status, 500);
    else assert.notEqual(status, 500, `${cls} must not be a 500`);
  }
  assert.equal(toRegistryError(newError("AlreadyExists", "x")).status, 409);
  assert.equal(toRegistryError(newError("FailedPrecondition", "x")).status, 412);
  assert.equal(toRegistryError(new Error("foreign")).status, 500, "a foreign error is Internal");
});

test("NotFound maps by resource: BLOB_UNKNOWN, MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UPLOAD_UNKNOWN", () => {
  const cases = [["blob", "BLOB_UNKNOWN"], ["manifest", "MANIFEST_UNKNOWN"], ["repository", "NAME_UNKNOWN"], ["upload", "BLOB_UPLOAD_UNKNOWN"]] as const;
  for (const [resource, code] of cases) {
    assert.deepEqual(wireCode("NotFound", resource), { code, status: 404 }, resource);
    assert.equal(toRegistryError(newError("NotFound", "gone"), resource).ociCode, code, resource);
  }
  assert.equal(wireCode("NotFound").code, "BLOB_UNKNOWN", "without a resource");
  assert.equal(wireCode("Unavailable", "manifest").code, "UNAVAILABLE", "the resource only picks among NotFound codes");
});

test("a code the chain already carries is kept, when it agrees with the class", () => {
  const upstream = new RegistryError("MANIFEST_UNKNOWN", "upstream has no tag v9");
  const wrapped = newError("NotFound", "pull through: upstream has no tag v9", { cause: upstream });
  assert.equal(toRegistryError(wrapped, "blob").ociCode, "MANIFEST_UNKNOWN");
  const reclassed = newError("Unavailable", "upstream down", { cause: upstream });
  assert.equal(toRegistryError(reclassed, "manifest").ociCode, "UNAVAILABLE", "the class decides when they disagree");
});

test("a RegistryError is a PodyardError of its code's class, found through cause chains", () => {
  for (const code of Object.keys(OCI_CODES) as (keyof typeof OCI_CODES)[]) {
    const e = new RegistryError(code);
    assert.ok(e instanceof PodyardError, code);
    assert.equal(e.code, OCI_CODES[code].class, code);
    assert.equal(e.status, OCI_CODES[code].status, code);
    assert.equal(e.message, OCI_CODES[code].message, code);
  }
  const e = new RegistryError("NAME_UNKNOWN", "repository x not known to registry", { detail: { name: "x" } });
  const outer = new Error("listing tags", { cause: e });
  assert.equal(isNotFound(outer), true);
  assert.equal(ociErrorCode(outer), "NAME_UNKNOWN");
  assert.equal(errorBody(e), JSON.stringify({ errors: [{ code: "NAME_UNKNOWN", message: "repository x not known to registry", detail: { name: "x" } }] }));
  assert.equal(new RegistryError("MANIFEST_INVALID", "too big", { status: 413 }).status, 413, "a status override");
});

test("the client reads each class's status back as that class, where the status is its own", () => {
  // Aborted shares 409 with AlreadyExists; Internal's 500 is Unavailable to a client (worth a retry).
  const shared: Record<string, string> = { Aborted: "AlreadyExists", Internal: "Unavailable" };
  for (const cls of ERROR_CLASSES) assert.equal(classForStatus(CLASS_WIRE[cls].status), shared[cls] ?? cls, cls);
  for (const [code, d] of Object.entries(OCI_CODES)) {
    if (d.class === "Internal") continue;
    assert.equal(classForStatus(d.status), d.class === "Unavailable" ? "Unavailable" : d.class, `${code} ${d.status}`);
  }
});

test("every code's summary, which starts a client's error line, is lower-case words, not the code", () => {
  for (const [code, d] of Object.entries(OCI_CODES)) assert.match(d.summary, /^[a-z]+( [a-z]+)*$/, code);
});
