/**
 * Decodes the Kubernetes protobuf request envelope ("k8s\0" + runtime.Unknown) for the kinds
 * kubectl's typed clients POST that way (Secret, ConfigMap, Namespace, ServiceAccount, TokenRequest), into the
 * JSON shape the rest of the server handles. Field numbers are k8s.io/api's generated.proto.
 */
import { badRequest } from "./status.js";

type Obj = Record<string, unknown>;

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Field { num: number; wire: number; varint?: bigint; bytes?: Buffer }

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw badRequest("protobuf: unexpected end of varint");
    const b = buf[pos++] as number;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 63n) throw badRequest("protobuf: varint overflows 64 bits");
  }
}

/** The fields of one message, in order. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const num = Number(tag >> 3n), wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ num, wire, varint: v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw badRequest("protobuf: length-delimited field runs past the end of the body");
      out.push({ num, wire, bytes: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) {
      out.push({ num, wire, bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ num, wire, bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else {
      throw badRequest(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

const text = (f: Field): string => (f.bytes ?? Buffer.alloc(0)).toString("utf8");

/** A map entry {1 key, 2 value}. */
function entry(f: Field): [string, Buffer] {
  let key = "", value: Buffer = Buffer.alloc(0);
  for (const e of fields(f.bytes ?? Buffer.alloc(0))) {
    if (e.num === 1) key = text(e);
    if (e.num === 2) value = e.bytes ?? Buffer.alloc(0);
  }
  return [key, value];
}

function setString(o: Obj, key: string, f: Field): void {
  const v = text(f);
  if (v !== "") o[key] = v;
}

function objectMeta(buf: Buffer): Obj {
  const m: Obj = {};
  for (const f of fields(buf)) {
    switch (f.num) {
      case 1: setString(m, "name", f); break;
      case 2: setString(m, "generateName", f); break;
      case 3: setString(m, "namespace", f); break;
      case 5: setString(m, "uid", f); break;
      case 6: setString(m, "resourceVersion", f); break;
      case 11: case 12: {
        const [k, v] = entry(f);
        const key = f.num === 11 ? "labels" : "annotations";
        ((m[key] ??= {}) as Obj)[k] = v.toString("utf8");
        break;
      }
      case 14: ((m.finalizers ??= []) as string[]).push(text(f)); break;
      default: break; // server-set fields (timestamps, generation, managedFields) are ignored on create
    }
  }
  return m;
}

function stringMap(o: Obj, key: string, f: Field, base64: boolean): void {
  const [k, v] = entry(f);
  ((o[key] ??= {}) as Obj)[k] = base64 ? v.toString("base64") : v.toString("utf8");
}

function decodeRaw(kind: string, raw: Buffer): Obj {
  const o: Obj = {};
  for (const f of fields(raw)) {
    if (f.num === 1 && f.wire === 2) { o.metadata = objectMeta(f.bytes ?? Buffer.alloc(0)); continue; }
    switch (kind) {
      case "Secret":
        if (f.num === 2) stringMap(o, "data", f, true);
        else if (f.num === 3) setString(o, "type", f);
        else if (f.num === 4) stringMap(o, "stringData", f, false);
        else if (f.num === 5) o.immutable = f.varint === 1n;
        break;
      case "ConfigMap":
        if (f.num === 2) stringMap(o, "data", f, false);
        else if (f.num === 3) stringMap(o, "binaryData", f, true);
        else if (f.num === 4) o.immutable = f.varint === 1n;
        break;
      case "Namespace":
        if (f.num === 2) {
          const spec: Obj = {};
          for (const s of fields(f.bytes ?? Buffer.alloc(0))) if (s.num === 1) ((spec.finalizers ??= []) as string[]).push(text(s));
          o.spec = spec;
        }
        break;
      case "TokenRequest":
        if (f.num === 2) {
          const spec: Obj = {};
          for (const x of fields(f.bytes ?? Buffer.alloc(0))) {
            if (x.num === 1) ((spec.audiences ??= []) as string[]).push(text(x));
            if (x.num === 4 && x.varint !== undefined) spec.expirationSeconds = Number(x.varint);
          }
          o.spec = spec;
        }
        break;
      case "ServiceAccount":
        if (f.num === 3) {
          const ref: Obj = {};
          for (const s of fields(f.bytes ?? Buffer.alloc(0))) if (s.num === 1) setString(ref, "name", s);
          ((o.imagePullSecrets ??= []) as Obj[]).push(ref);
        } else if (f.num === 4) {
          o.automountServiceAccountToken = f.varint === 1n;
        }
        break;
    }
  }
  o.metadata ??= {};
  return o;
}

const KINDS = new Set(["Secret", "ConfigMap", "Namespace", "ServiceAccount", "TokenRequest"]);

/** The JSON form of a protobuf request body; 415 for kinds this server cannot read as protobuf. */
export function decodeProtobuf(body: Buffer): Obj {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw badRequest("provided protobuf data is missing the k8s\\0 prefix");
  let apiVersion = "", kind = "";
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.num === 1) {
      for (const t of fields(f.bytes ?? Buffer.alloc(0))) {
        if (t.num === 1) apiVersion = text(t);
        if (t.num === 2) kind = text(t);
      }
    } else if (f.num === 2) {
      raw = f.bytes ?? Buffer.alloc(0);
    }
  }
  if (!KINDS.has(kind)) {
    const e = badRequest(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf is read only for Secret, ConfigMap, Namespace and ServiceAccount, not ${kind || "this object"})`);
    e.status.code = 415;
    e.status.reason = "UnsupportedMediaType";
    throw e;
  }
  return { apiVersion, kind, ...decodeRaw(kind, raw) };
}
