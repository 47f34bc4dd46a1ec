/**
 * Whether a pod may use an image already on the node without going to the registry
 * (KEP-2535 KubeletEnsureSecretPulledImages, pullmanager `image_pull_manager.go`): the image
 * must have been pulled with one of the pod's credentials, or without credentials, or be
 * exempt by the verification policy. Otherwise the kubelet pulls again with the pod's own.
 */
import type { Clock } from "../../clock/index.js";
import { parseImageName, parseNormalizedNamed } from "../../reference/index.js";
import type { ImageService } from "../cri.js";
import type { CredentialVerificationPolicy } from "./config.js";
import type { TrackedAuthConfig } from "./keyring.js";
import type { FsPullRecords, ImagePullCredentials, ImagePullSecretRecord, ImagePulledRecord } from "./pull-records.js";

/** Beyond this many secrets in a record, matching no longer adds the pod's secret to it. */
const MAX_SECRETS_PER_RECORD = 100;

/** The repository an image is recorded under: the normalised name without tag or digest. */
export function trimImageTagDigest(image: string): string {
  return parseImageName(image).repo;
}

/** The pull-record credentials a pull with `cred` grants: its secret, or (none) every pod on the node. */
export function credentialsOfPull(cred: TrackedAuthConfig | undefined): ImagePullCredentials {
  if (cred?.source === undefined) return { nodePodsAccessible: true };
  const { uid, namespace, name } = cred.source.secret;
  return { kubernetesSecrets: [{ uid, namespace, name, credentialHash: cred.authConfigHash }] };
}

function sameCoords(a: { uid: string; namespace: string; name: string }, b: { uid: string; namespace: string; name: string }): boolean {
  return a.uid === b.uid && a.namespace === b.namespace && a.name === b.name;
}

function secretOrder(a: ImagePullSecretRecord, b: ImagePullSecretRecord): number {
  return a.namespace.localeCompare(b.namespace, "en") || a.name.localeCompare(b.name, "en") || a.uid.localeCompare(b.uid, "en");
}

/**
 * `add` merged into `old` (pullmanager `pulledRecordMergeNewCreds`): node-wide access wins over
 * everything; secrets are unique by coordinates (the newer hash kept) and sorted; undefined when
 * nothing changes.
 */
function mergeCredentials(old: ImagePullCredentials, add: ImagePullCredentials): ImagePullCredentials | undefined {
  if (old.nodePodsAccessible === true) return undefined;
  if (add.nodePodsAccessible === true) return { nodePodsAccessible: true };
  if ((add.kubernetesSecrets ?? []).length > 0) {
    const byCoords = new Map<string, ImagePullSecretRecord>();
    const key = (s: ImagePullSecretRecord): string => JSON.stringify([s.uid, s.namespace, s.name]);
    for (const s of old.kubernetesSecrets ?? []) byCoords.set(key(s), s);
    let changed = false;
    for (const s of add.kubernetesSecrets ?? []) {
      if (byCoords.get(key(s))?.credentialHash !== s.credentialHash) {
        changed = true;
        byCoords.set(key(s), s);
      }
    }
    return changed ? { ...old, kubernetesSecrets: [...byCoords.values()].sort(secretOrder) } : undefined;
  }
  if ((add.kubernetesServiceAccounts ?? []).length > 0) {
    const accounts = [...(old.kubernetesServiceAccounts ?? [])];
    let changed = false;
    for (const a of add.kubernetesServiceAccounts ?? []) {
      if (!accounts.some((o) => sameCoords(o, a))) {
        accounts.push(a);
        changed = true;
      }
    }
    return changed ? { ...old, kubernetesServiceAccounts: accounts } : undefined;
  }
  return undefined;
}

/** Whether `image` matches the allowlist (`registry/repo` exactly, or under a `registry/path/*` entry). */
function allowlisted(image: string, allowlist: string[]): boolean {
  let name: string;
  try {
    name = parseNormalizedNamed(image).name;
  } catch {
    return false;
  }
  return allowlist.some((p) => (p.endsWith("/*") ? name.startsWith(p.slice(0, -1)) : name === parseNormalizedNamed(p).name));
}

export interface PullManagerOptions {
  records: FsPullRecords;
  clock: Clock;
  policy: CredentialVerificationPolicy;
  allowlist: string[];
}

export class PullManager {
  readonly #records: FsPullRecords;
  readonly #clock: Clock;
  readonly #policy: CredentialVerificationPolicy;
  readonly #allowlist: string[];
  /** Pulls under way per image (intents are ref-counted: the file goes when the last one ends). */
  readonly #intents = new Map<string, number>();
  /** Record updates run one after another, so concurrent pulls of one image do not lose each other's secrets. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(opts: PullManagerOptions) {
    this.#records = opts.records;
    this.#clock = opts.clock;
    this.#policy = opts.policy;
    this.#allowlist = opts.allowlist;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(task, task);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  /**
   * At kubelet start: intents left by a pull the kubelet did not see end, for images that are
   * now present, become records with no credentials, so every pod must prove access.
   */
  async initialize(images: ImageService): Promise<void> {
    const intents = await this.#records.listIntents();
    if (intents.length === 0) return;
    const list = await images.listImages();
    for (const intent of intents) {
      const status = await images.imageStatus({ image: intent.image }).catch(() => undefined);
      const imageRef = status?.image?.id ?? list.find((i) => i.repoTags.includes(intent.image) || i.repoDigests.includes(intent.image))?.id;
      // Intents of images that are not here stay: should the image appear, it counts as kubelet-pulled.
      if (imageRef === undefined) continue;
      await this.#writePulled(intent.image, imageRef, undefined);
      await this.#records.deleteIntent(intent.image);
    }
  }

  /** Drops the records of images no longer on the node, unless updated at or after `untilMs` (called by image GC). */
  pruneUnknownRecords(imageRefs: string[], untilMs: number): Promise<void> {
    return this.#serial(async () => {
      const present = new Set(imageRefs);
      for (const r of await this.#records.listPulled()) {
        if (Date.parse(r.lastUpdatedTime) >= untilMs || present.has(r.imageRef)) continue;
        await this.#records.deletePulled(r.imageRef);
      }
    });
  }

  async recordPullIntent(image: string): Promise<void> {
    // a pull of the image under way holds the same intent on disk already (counted, not rewritten)
    if ((this.#intents.get(image) ?? 0) === 0) await this.#serial(() => this.#records.writeIntent({ image }));
    this.#intents.set(image, (this.#intents.get(image) ?? 0) + 1);
  }

  async #decrementIntent(image: string): Promise<void> {
    const n = (this.#intents.get(image) ?? 1) - 1;
    if (n > 0) {
      this.#intents.set(image, n);
      return;
    }
    this.#intents.delete(image);
    await this.#serial(() => this.#records.deleteIntent(image));
  }

  async recordImagePullFailed(image: string): Promise<void> {
    await this.#decrementIntent(image);
  }

  /** A pull of `image` gave `imageRef` with `credentials`: they join the image's record. */
  async recordImagePulled(image: string, imageRef: string, credentials: ImagePullCredentials | undefined): Promise<void> {
    await this.#writePulled(image, imageRef, credentials);
    await this.#decrementIntent(image);
  }

  /**
   * Adds `credentials` to the record of `imageRef` under the image's repository; without
   * credentials (a pull under unknown circumstances) the record exists but grants nothing.
   */
  #writePulled(image: string, imageRef: string, credentials: ImagePullCredentials | undefined): Promise<void> {
    return this.#serial(async () => {
      const repo = trimImageTagDigest(image);
      const old = await this.#records.getPulled(imageRef).catch(() => undefined);
      const now = new Date(this.#clock.now()).toISOString();
      const hasAny = (c: ImagePullCredentials): boolean =>
        c.nodePodsAccessible === true || (c.kubernetesSecrets ?? []).length > 0 || (c.kubernetesServiceAccounts ?? []).length > 0;
      if (old === undefined) {
        await this.#records.writePulled({ lastUpdatedTime: now, imageRef, credentialMapping: credentials === undefined ? {} : { [repo]: credentials } });
        return;
      }
      if (credentials === undefined || !hasAny(credentials)) return;
      const prev = old.credentialMapping[repo];
      const merged = prev === undefined ? credentials : mergeCredentials(prev, credentials);
      if (merged === undefined) return;
      const record: ImagePulledRecord = { lastUpdatedTime: now, imageRef, credentialMapping: { ...old.credentialMapping, [repo]: merged } };
      await this.#records.writePulled(record);
    });
  }

  /** Whether the policy asks for proof of access to `image` (image_pull_policies.go). */
  #mustVerify(image: string, pulledByKubelet: boolean): boolean {
    switch (this.#policy) {
      case "NeverVerify": return false;
      case "NeverVerifyPreloadedImages": return pulledByKubelet;
      case "NeverVerifyAllowlistedImages": return !allowlisted(image, this.#allowlist);
      case "AlwaysVerify": return true;
    }
  }

  /**
   * Whether the pod must pull `image` (present as `imageRef`) to prove access, given the
   * credentials from its own pull secrets (node credentials prove nothing).
   */
  async mustAttemptImagePull(image: string, imageRef: string, podSecrets: ImagePullSecretRecord[]): Promise<boolean> {
    if (imageRef === "") return true;
    const record = await this.#records.getPulled(imageRef).catch(() => undefined);
    // A record, even one granting nothing, means the kubelet pulled the image; so does a pull under way or cut short.
    const pulledByKubelet = record !== undefined
      ? Object.values(record.credentialMapping).length === 0 || Object.values(record.credentialMapping).some((c) => c.preloaded !== true)
      : this.#intents.has(image) || (await this.#records.getIntent(image)) !== undefined;
    if (!this.#mustVerify(image, pulledByKubelet)) return false;
    if (record === undefined) return true;
    const cached = record.credentialMapping[trimImageTagDigest(image)];
    if (cached === undefined) return true;
    if (cached.nodePodsAccessible === true) return false;
    const secrets = cached.kubernetesSecrets ?? [];
    if (secrets.length === 0) return true;
    for (const mine of podSecrets) {
      for (const theirs of secrets) {
        const hashes = theirs.credentialHash !== "" && mine.credentialHash === theirs.credentialHash;
        const coords = sameCoords(mine, theirs);
        if (hashes || coords) {
          // An equal login in another secret, or this secret with a new login: remember it for next time.
          if (!(hashes && coords) && secrets.length < MAX_SECRETS_PER_RECORD) {
            await this.#writePulled(image, imageRef, { kubernetesSecrets: [mine] }).catch(() => undefined);
          }
          return false;
        }
      }
    }
    return true;
  }
}
