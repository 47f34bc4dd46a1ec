/** The pod's hostname and its managed /etc/hosts (`GeneratePodHostNameAndDomain`, `ensureHostsFile`). */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostAlias, Pod } from "../../api/index.js";
import { InvalidArgumentError } from "../../errdefs/index.js";

export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
const HOSTNAME_MAX = 63;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function labelErrors(s: string): string | undefined {
  if (s.length > 63) return "must be no more than 63 characters";
  if (!DNS1123_LABEL.test(s)) return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  return undefined;
}

/** `spec.hostname` or the pod name, cut to 63 characters without a trailing `-`/`.`; the domain when `spec.subdomain` is set. */
export function podHostnameAndDomain(pod: Pod, clusterDomain = DEFAULT_CLUSTER_DOMAIN): { hostname: string; domain: string } {
  let hostname = pod.metadata.name ?? "";
  if (pod.spec.hostname) {
    const e = labelErrors(pod.spec.hostname);
    if (e) throw new InvalidArgumentError(`pod Hostname ${JSON.stringify(pod.spec.hostname)} is not a valid DNS label: ${e}`);
    hostname = pod.spec.hostname;
  }
  if (hostname.length > HOSTNAME_MAX) {
    const cut = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, "");
    if (cut === "") throw new InvalidArgumentError(`hostname for pod ${JSON.stringify(pod.metadata.name ?? "")} was invalid: ${JSON.stringify(hostname)}`);
    hostname = cut;
  }
  let domain = "";
  if (pod.spec.subdomain) {
    const e = labelErrors(pod.spec.subdomain);
    if (e) throw new InvalidArgumentError(`pod Subdomain ${JSON.stringify(pod.spec.subdomain)} is not a valid DNS label: ${e}`);
    domain = `${pod.spec.subdomain}.${pod.metadata.namespace ?? "default"}.svc.${clusterDomain}`;
  }
  return { hostname, domain };
}

function aliasLines(aliases: HostAlias[] | undefined): string {
  if (!aliases || aliases.length === 0) return "";
  return "\n# Entries added by HostAliases.\n" + aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join("\t")}\n`).join("");
}

/** The managed hosts file's text (`managedHostsFileContent`). */
export function managedHostsFileContent(podIPs: string[], hostname: string, domain: string, aliases?: HostAlias[]): string {
  let out = "# Kubernetes-managed hosts file.\n"
    + "127.0.0.1\tlocalhost\n"
    + "::1\tlocalhost ip6-localhost ip6-loopback\n"
    + "fe00::0\tip6-localnet\n"
    + "fe00::0\tip6-mcastprefix\n"
    + "fe00::1\tip6-allnodes\n"
    + "fe00::2\tip6-allrouters\n";
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + aliasLines(aliases);
}

/** `<podDir>/etc-hosts` */
export function etcHostsPath(podDir: string): string {
  return join(podDir, "etc-hosts");
}

/**
 * Writes `<podDir>/etc-hosts` (0644) for the pod and returns its path. A hostNetwork pod gets the
 * node's own file under the host-network header; `hostsFile` names it (default /etc/hosts).
 */
export async function writeEtcHosts(podDir: string, pod: Pod, podIP: string | string[], opts: { clusterDomain?: string; hostsFile?: string } = {}): Promise<string> {
  const ips = Array.isArray(podIP) ? podIP : podIP ? [podIP] : [];
  let text: string;
  if (pod.spec.hostNetwork) {
    const node = await readFile(opts.hostsFile ?? "/etc/hosts", "utf8");
    text = "# Kubernetes-managed hosts file (host network).\n" + node + aliasLines(pod.spec.hostAliases);
  } else {
    const { hostname, domain } = podHostnameAndDomain(pod, opts.clusterDomain);
    text = managedHostsFileContent(ips, hostname, domain, pod.spec.hostAliases);
  }
  const path = etcHostsPath(podDir);
  await mkdir(podDir, { recursive: true, mode: 0o750 });
  await writeFile(path, text, { mode: 0o644 });
  await chmod(path, 0o644);
  return path;
}
