/**
 * Discovery documents: /api, /apis and /api/v1, /apis/<g>/<v> in the legacy form, and the
 * aggregated form (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) when the Accept header asks.
 */
import { DEFAULT_VERBS, GROUP_VERSIONS, resourcesOf, type ResourceInfo } from "./resources.js";

export const AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** Whether the Accept header prefers the aggregated (v2 or v2beta1) discovery document. */
export function wantsAggregated(accept: string | undefined): { version: "v2" | "v2beta1" } | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(",")) {
    const p = part.replace(/\s+/g, "");
    if (p.includes("as=APIGroupDiscoveryList") && p.includes("g=apidiscovery.k8s.io")) return { version: p.includes("v=v2beta1") ? "v2beta1" : "v2" };
    if (p === "application/json" || p === "*/*") return undefined;
  }
  return undefined;
}

export function apiVersions(serverAddress: string): object {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function apiGroup(group: string): object {
  const versions = GROUP_VERSIONS.filter((g) => g.group === group).map((g) => ({ groupVersion: `${g.group}/${g.version}`, version: g.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): object {
  const groups = [...new Set(GROUP_VERSIONS.map((g) => g.group))];
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(apiGroup) };
}

export function apiGroupDoc(group: string): object | undefined {
  if (!GROUP_VERSIONS.some((g) => g.group === group)) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group) };
}

function storageVersionHash(r: ResourceInfo): string {
  return Buffer.from(`${r.group}/${r.version}/${r.kind}`).toString("base64").slice(0, 11);
}

export function apiResourceList(group: string, version: string): object | undefined {
  const rs = resourcesOf(group, version);
  if (rs.length === 0) return undefined;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: DEFAULT_VERBS,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}), ...(r.categories ? { categories: r.categories } : {}),
      storageVersionHash: storageVersionHash(r),
    });
    for (const [sub, s] of Object.entries(r.subresources)) {
      resources.push({ name: `${r.resource}/${sub}`, singularName: "", namespaced: r.namespaced, kind: s.kind, verbs: s.verbs });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources };
}

function discoveryResource(r: ResourceInfo): object {
  return {
    resource: r.resource, responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? "Namespaced" : "Cluster", singularResource: r.singular, verbs: DEFAULT_VERBS,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}), ...(r.categories ? { categories: r.categories } : {}),
    ...(Object.keys(r.subresources).length ? {
      subresources: Object.entries(r.subresources).map(([sub, s]) => ({
        subresource: sub, responseKind: { group: sub === "exec" || sub === "attach" || sub === "portforward" || sub === "binding" || sub === "token" ? "" : r.group, version: r.version, kind: s.kind }, verbs: s.verbs,
      })),
    } : {}),
  };
}

/** The aggregated document for /api (core) or /apis (the named groups). */
export function aggregatedDiscovery(which: "api" | "apis", version: "v2" | "v2beta1"): object {
  const groups = which === "api" ? [{ group: "", versions: ["v1"] }] : [...new Set(GROUP_VERSIONS.map((g) => g.group))].map((group) => ({
    group, versions: GROUP_VERSIONS.filter((g) => g.group === group).map((g) => g.version),
  }));
  return {
    kind: "APIGroupDiscoveryList", apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {},
    items: groups.map((g) => ({
      metadata: g.group ? { name: g.group, creationTimestamp: null } : { creationTimestamp: null },
      versions: g.versions.map((v) => ({ version: v, resources: resourcesOf(g.group, v).map(discoveryResource), freshness: "Current" })),
    })),
  };
}
