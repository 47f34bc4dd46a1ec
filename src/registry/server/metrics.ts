/**
 * Registry metrics in the Prometheus text format (version 0.0.4): requests by method,
 * route and status, bytes in and out, open upload sessions, errors by OCI code.
 */

type Labels = Record<string, string>;

class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = JSON.stringify(labels);
    const cur = this.#values.get(key);
    if (cur) cur.value += by;
    else this.#values.set(key, { labels, value: by });
  }
  render(type = "counter"): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${type}`];
    if (this.#values.size === 0 && type === "gauge") lines.push(`${this.name} 0`);
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${formatLabels(labels)} ${value}`);
    return lines.join("\n");
  }
  set(labels: Labels, value: number): void {
    this.#values.set(JSON.stringify(labels), { labels, value });
  }
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

export class RegistryMetrics {
  readonly requests = new Counter("podyard_registry_http_requests_total", "HTTP requests by method, route and status code.");
  readonly bytesReceived = new Counter("podyard_registry_http_request_bytes_total", "Bytes received on the wire (request lines, headers and bodies).");
  readonly bytesSent = new Counter("podyard_registry_http_response_bytes_total", "Bytes sent on the wire (status lines, headers and bodies).");
  readonly uploads = new Counter("podyard_registry_upload_sessions", "Blob upload sessions held in memory.");
  readonly errors = new Counter("podyard_registry_errors_total", "Error responses by OCI error code.");

  request(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, code: String(status) });
  }

  render(): string {
    return [
      this.requests.render(),
      this.bytesReceived.render(),
      this.bytesSent.render(),
      this.uploads.render("gauge"),
      this.errors.render(),
    ].join("\n") + "\n";
  }
}
