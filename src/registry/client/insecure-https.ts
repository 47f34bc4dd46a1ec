/**
 * The fetch for registries configured with `skipVerify` (hosts.json): HTTPS whose server
 * certificate is not checked, as `docker --insecure-registry` or containerd's
 * `skip_verify` do for registries with self-signed certificates. Every method, with or
 * without a body (a buffer, or a stream sent once); redirects are returned, not followed
 * (the Transport follows them). Plain HTTP goes to plainHttpFetch. Failures look like
 * fetch's: `TypeError("fetch failed")` with the cause.
 */
import { Agent, request } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { plainHttpFetch, requestHeaders } from "./plain-http.js";
import { fetchFailed, hasNoBody, PlainHeaders, PlainResponse } from "./plain-response.js";
import type { FetchLike } from "./types.js";

export function insecureHttpsFetch(): FetchLike {
  const agent = new Agent({ keepAlive: true, rejectUnauthorized: false });
  const https: FetchLike = (input, init) => {
    const url = new URL(input instanceof URL ? input.href : input);
    if (url.protocol !== "https:") return Promise.reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
    const method = (init?.method ?? "GET").toUpperCase();
    let headers: [string, string][];
    try {
      headers = requestHeaders(init?.headers);
    } catch (err) {
      return Promise.reject(err);
    }
    const body = init?.body as unknown;
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method, headers: Object.fromEntries(headers), agent, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const status = res.statusCode ?? 0;
        const out = new PlainHeaders();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
        try {
          const noBody = hasNoBody(method, status);
          if (noBody) res.resume();
          const stream = noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new PlainResponse({ status, statusText: res.statusMessage ?? "", headers: out, url: url.href, body: stream }) as unknown as Response);
        } catch (err) {
          res.destroy();
          reject(fetchFailed(err));
        }
      });
      req.on("error", (err) => reject(init?.signal?.aborted ? init.signal.reason : fetchFailed(err)));
      if (body === undefined || body === null) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else if (body instanceof Readable) pipeline(body, req).catch((err: unknown) => req.destroy(err instanceof Error ? err : new Error(String(err))));
      else {
        req.destroy();
        reject(fetchFailed(new Error("unsupported request body: want bytes or a Readable")));
      }
    });
  };
  return plainHttpFetch({ fallback: https });
}
