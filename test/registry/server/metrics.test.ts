/**
 * GET /metrics: Prometheus text (version 0.0.4) with request counts by method, route
 * and status code, error counts by OCI code, bytes in and out, and a gauge of open
 * upload sessions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { digestOf } from "../../../src/oci/index.js";
import { pushImage, startRegistry } from "../../helpers/registry.js";
import { makeTempDir, removeDir, startRegistryProcess } from "../../helpers/registry-process.js";
import { basic, getToken, htpasswdLine, type TokenBody } from "./auth/helpers.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
  helps: Set<string>;
}

/** Parses the Prometheus text exposition format, failing on any line it does not understand. */
function parseMetrics(text: string): Scrape {
  const scrape: Scrape = { samples: [], types: new Map(), helps: new Set() };
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") scrape.types.set(meta[2] ?? "", meta[3] ?? "");
      else scrape.helps.add(meta[2] ?? "");
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.eE+]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
    let consumed = 0;
    for (let l = labelRe.exec(body); l; l = labelRe.exec(body)) {
      labels[l[1] ?? ""] = (l[2] ?? "").replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      consumed = labelRe.lastIndex;
    }
    assert.equal(consumed, body.length, `malformed labels in ${JSON.stringify(line)}`);
    scrape.samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  const seen = new Set<string>();
  for (const s of scrape.samples) {
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    assert.ok(!seen.has(key), `duplicate series ${key}`);
    seen.add(key);
    assert.ok(scrape.types.has(s.name), `${s.name} has a # TYPE line`);
    assert.ok(scrape.helps.has(s.name), `${s.name} has a # HELP line`);
  }
  return scrape;
}

/** The value of the one series of `name` whose labels include `labels` exactly; 0 when absent. */
function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const hits = scrape.samples.filter(
    (s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(hits.length <= 1, `one series for ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value ?? 0;
}

async function scrape(url: string, authorization?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, authorization !== undefined ? { headers: { Authorization: authorization } } : {});
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

const REQUESTS = "podyard_registry_http_requests_total";
const ERRORS = "podyard_registry_errors_total";
const UPLOADS = "podyard_registry_upload_sessions";

test("GET /metrics counts requests by route and code, errors by OCI code, and open upload sessions", async () => {
  const reg = await startRegistry();
  try {
    const { url } = reg;
    const empty = await scrape(url);
    assert.equal(empty.types.get(REQUESTS), "counter");
    assert.equal(empty.types.get(ERRORS), "counter");
    assert.equal(empty.types.get(UPLOADS), "gauge");
    assert.equal(value(empty, UPLOADS), 0);

    for (let i = 0; i < 2; i++) await (await fetch(`${url}/v2/`)).arrayBuffer();
    const layer = Buffer.alloc(10_000, 7);
    const image = await pushImage(url, "metrics/app", "v1", [layer]);
    await (await fetch(`${url}/v2/metrics/app/manifests/v1`)).arrayBuffer();
    await (await fetch(`${url}/v2/metrics/app/blobs/${image.layers[0]}`)).arrayBuffer();
    const missingTag = await fetch(`${url}/v2/metrics/app/manifests/nope`);
    await missingTag.arrayBuffer();
    assert.equal(missingTag.status, 404);
    await (await fetch(`${url}/v2/metrics/nothing-here/manifests/v1`)).arrayBuffer();
    await (await fetch(`${url}/v2/metrics/app/blobs/${digestOf("missing")}`)).arrayBuffer();
    await (await fetch(`${url}/v2/metrics/app/manifests/-bad-tag`)).arrayBuffer();
    const open1 = await fetch(`${url}/v2/metrics/app/blobs/uploads/`, { method: "POST" });
    const open2 = await fetch(`${url}/v2/metrics/app/blobs/uploads/`, { method: "POST" });
    assert.equal(open1.status, 202);
    assert.equal(open2.status, 202);

    const s = await scrape(url);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "base", code: "200" }), 2);
    assert.equal(value(s, REQUESTS, { method: "PUT", route: "manifest", code: "201" }), 1);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "manifest", code: "200" }), 1);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "manifest", code: "404" }), 2);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "manifest", code: "400" }), 1);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "blob", code: "200" }), 1);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "blob", code: "404" }), 1);
    assert.equal(value(s, REQUESTS, { method: "POST", route: "blobUploadStart", code: "201" }), 2, "config and layer pushed");
    assert.equal(value(s, REQUESTS, { method: "POST", route: "blobUploadStart", code: "202" }), 2);
    assert.equal(value(s, REQUESTS, { method: "GET", route: "metrics", code: "200" }), 1, "the first scrape is counted");

    assert.equal(value(s, ERRORS, { code: "MANIFEST_UNKNOWN" }), 1);
    assert.equal(value(s, ERRORS, { code: "NAME_UNKNOWN" }), 1);
    assert.equal(value(s, ERRORS, { code: "BLOB_UNKNOWN" }), 1);
    assert.equal(value(s, ERRORS, { code: "TAG_INVALID" }), 1);
    assert.equal(value(s, UPLOADS), 2, "two upload sessions are open");

    const loc = new URL(open1.headers.get("location") ?? "", url).href;
    const cancel = await fetch(loc, { method: "DELETE" });
    assert.equal(cancel.status, 204);
    const after = await scrape(url);
    assert.equal(value(after, UPLOADS), 1, "a cancelled upload leaves the gauge");
    assert.equal(value(after, REQUESTS, { method: "DELETE", route: "blobUpload", code: "204" }), 1);
    assert.equal(value(after, REQUESTS, { method: "GET", route: "metrics", code: "200" }), 2);

    // bytes: everything pushed (layer, manifest) was received, everything pulled was sent
    const pushed = layer.length + image.manifest.length;
    const received = value(s, "podyard_registry_http_request_bytes_total");
    const sent = value(s, "podyard_registry_http_response_bytes_total");
    assert.ok(sent >= layer.length + image.manifest.length, `response bytes ${sent} include what was pulled`);
    assert.ok(received >= pushed, `request bytes ${received} include the ${pushed} body bytes pushed`);
  } finally {
    await reg.close();
  }
});

test("/metrics asks for the registry's credentials, with the challenge /v2/ sends", async () => {
  const root = await makeTempDir("metrics-auth");
  const htpasswd = join(root, "htpasswd");
  await writeFile(htpasswd, `${(await htpasswdLine("alice", "wonderland")).line}\n`);
  try {
    for (const extra of [["--htpasswd", htpasswd], ["--token-auth", "--htpasswd", htpasswd]]) {
      const proc = await startRegistryProcess(join(root, "store"), extra);
      try {
        const base = await fetch(`${proc.url}/v2/`);
        await base.arrayBuffer();
        assert.equal(base.status, 401, `${extra.join(" ")}: /v2/`);
        const challenge = base.headers.get("www-authenticate");
        assert.ok(challenge, "/v2/ sends a challenge");

        const anonymous = await fetch(`${proc.url}/metrics`);
        const body = await anonymous.text();
        assert.equal(anonymous.status, 401, `${extra.join(" ")}: anonymous /metrics`);
        assert.equal(JSON.parse(body).errors[0].code, "UNAUTHORIZED");
        assert.equal(anonymous.headers.get("www-authenticate"), challenge);
        assert.doesNotMatch(body, /podyard_registry/);

        const wrong = await fetch(`${proc.url}/metrics`, { headers: { Authorization: basic("alice", "looking-glass") } });
        await wrong.arrayBuffer();
        assert.equal(wrong.status, 401, `${extra.join(" ")}: wrong password`);

        let authorization = basic("alice", "wonderland");
        if (extra.includes("--token-auth")) {
          const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? "";
          const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? "";
          const token = (await (await getToken(realm, { service, auth: authorization })).json()) as TokenBody;
          authorization = `Bearer ${token.token}`;
        }
        const s = await scrape(proc.url, authorization);
        assert.equal(value(s, REQUESTS, { method: "GET", route: "metrics", code: "401" }), 2);
      } finally {
        await proc.kill();
      }
    }
  } finally {
    await removeDir(root);
  }
});

test("with token auth, an anonymous token opens /v2/ but not /metrics: 401 with the /v2/ challenge", async () => {
  const root = await makeTempDir("metrics-anon");
  const htpasswd = join(root, "htpasswd");
  await writeFile(htpasswd, `${(await htpasswdLine("alice", "wonderland")).line}\n`);
  try {
    for (const extra of [["--token-auth", "--htpasswd", htpasswd], ["--token-auth", "--anonymous-pull", "--htpasswd", htpasswd]]) {
      const proc = await startRegistryProcess(join(root, "store"), extra);
      try {
        const base = await fetch(`${proc.url}/v2/`);
        await base.arrayBuffer();
        const challenge = base.headers.get("www-authenticate") ?? "";
        const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? "";
        const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? "";
        const anonymous = (await (await getToken(realm, { service, scopes: ["repository:team/app:pull"] })).json()) as TokenBody;
        const bearer = { Authorization: `Bearer ${anonymous.token}` };

        const ping = await fetch(`${proc.url}/v2/`, { headers: bearer });
        await ping.arrayBuffer();
        assert.equal(ping.status, 200, `${extra.join(" ")}: /v2/ with an anonymous token`);
        const metrics = await fetch(`${proc.url}/metrics`, { headers: bearer });
        const body = await metrics.text();
        assert.equal(metrics.status, 401, `${extra.join(" ")}: /metrics with an anonymous token: ${body}`);
        assert.equal(JSON.parse(body).errors[0].code, "UNAUTHORIZED");
        assert.equal(metrics.headers.get("www-authenticate"), challenge);
        assert.doesNotMatch(body, /podyard_registry/);

        const user = (await (await getToken(realm, { service, auth: basic("alice", "wonderland") })).json()) as TokenBody;
        const s = await scrape(proc.url, `Bearer ${user.token}`);
        assert.equal(value(s, REQUESTS, { method: "GET", route: "metrics", code: "401" }), 1, "the anonymous scrape was refused");
      } finally {
        await proc.kill();
      }
    }
  } finally {
    await removeDir(root);
  }
});
