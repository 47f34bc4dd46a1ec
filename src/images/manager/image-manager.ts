/**
 * The kubelet's image manager (pkg/kubelet/images/image_manager.go `EnsureImageExists`): makes a
 * container's image present by its pull policy, with the pod's credentials, backing off failed
 * pulls per pod and image, and records the kubelet's events on the container, in this order:
 * default tag → inspect (not for Always) → present and accessible? → back-off → pull → result.
 */
import { join } from "node:path";
import { realClock, type Clock } from "../../clock/index.js";
import { Backoff, SingleFlight } from "../../concurrency/index.js";
import { applyDefaultImageTag, parseDockerRef, parseImageName } from "../../reference/index.js";
import type { ImageService, ImageSpec } from "../cri.js";
import type { EnsureImageRequest, EnsureImageResult, ImageErrorReason, ImageManager, ImageManagerConfig } from "../image-manager-types.js";
import { defaultImageManagerConfig, validateImageManagerConfig, type ResolvedImageManagerConfig } from "./config.js";
import { formatGoDuration } from "./go-duration.js";
import { goQuote } from "./go-quote.js";
import { BasicDockerKeyring, makeDockerKeyring, type DockerConfig, type DockerKeyring, type TrackedAuthConfig } from "./keyring.js";
import { credentialsOfPull, PullManager } from "./pull-manager.js";
import { FsPullRecords, type ImagePullSecretRecord } from "./pull-records.js";
import { containerPullPolicy } from "./pull-policy.js";
import { ParallelImagePuller, SerialImagePuller, throttleImagePulling, type ImagePuller, type PullResult } from "./pullers.js";

/** The kubelet's image pull back-off: 10 s doubling to 300 s (kubelet.go `imageBackOffPeriod`, `MaxImageBackOff`). */
export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;

export interface KubeletImageManagerOptions {
  /** The CRI image service. */
  imageService: ImageService;
  config?: ImageManagerConfig;
  clock?: Clock;
  /** The node's docker logins (config.json / .dockercfg); read before each lookup. None by default. */
  nodeCredentials?: () => Promise<DockerConfig>;
  /** The kubelet's root directory: pull records go to `<stateDir>/image_manager/{pulling,pulled}`. */
  stateDir: string;
  /** Reject an invalid configuration (default true). */
  validate?: boolean;
}

const q = goQuote;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** image_manager.go `evalCRIPullErr`: registry-unavailable and signature errors get their own reason. */
export function evalCRIPullErr(image: string, message: string): { reason: ImageErrorReason; message: string } {
  if (message.startsWith("RegistryUnavailable")) {
    return { reason: "RegistryUnavailable", message: `image pull failed for ${image} because the registry is unavailable${message.slice("RegistryUnavailable".length)}` };
  }
  if (message.startsWith("SignatureValidationFailed")) {
    return { reason: "SignatureValidationFailed", message: `image pull failed for ${image} because the signature validation failed${message.slice("SignatureValidationFailed".length)}` };
  }
  return { reason: "ErrImagePull", message };
}

export class KubeletImageManager implements ImageManager {
  readonly config: ResolvedImageManagerConfig;
  /** Keyed `${podUID}_${container.image}`; the kubelet's own, so tests and the kubelet can read it. */
  readonly backOff: Backoff;
  readonly #service: ImageService;
  readonly #clock: Clock;
  readonly #puller: ImagePuller;
  readonly #nodeCredentials: (() => Promise<DockerConfig>) | undefined;
  readonly #pullManager: PullManager;
  readonly #prevPullErrMsg = new Map<string, string>();
  readonly #flights = new SingleFlight<PullResult>();
  #initialized: Promise<void> | undefined;

  constructor(opts: KubeletImageManagerOptions) {
    this.config = defaultImageManagerConfig(opts.config);
    if (opts.validate ?? true) validateImageManagerConfig(this.config);
    this.#service = opts.imageService;
    this.#clock = opts.clock ?? realClock;
    this.backOff = new Backoff({ initialMs: IMAGE_BACKOFF_INITIAL_MS, maxMs: IMAGE_BACKOFF_MAX_MS, clock: this.#clock });
    const throttled = throttleImagePulling(this.#service, this.config.registryPullQPS, this.config.registryBurst, this.#clock);
    this.#puller = this.config.serializeImagePulls
      ? new SerialImagePuller(throttled, this.#clock)
      : new ParallelImagePuller(throttled, this.#clock, this.config.maxParallelImagePulls);
    this.#nodeCredentials = opts.nodeCredentials;
    this.#pullManager = new PullManager({
      records: new FsPullRecords(join(opts.stateDir, "image_manager")),
      clock: this.#clock,
      policy: this.config.imagePullCredentialsVerificationPolicy,
      allowlist: this.config.preloadedImagesVerificationAllowlist,
    });
  }

  /** Turns pull intents left by a previous run into records (runs once, before the first request). */
  initialize(): Promise<void> {
    this.#initialized ??= this.config.ensureSecretPulledImages ? this.#pullManager.initialize(this.#service).catch(() => undefined) : Promise.resolve();
    return this.#initialized;
  }

  /** Forgets the pull records of images no longer listed, unless updated since `untilMs` (image GC calls it after each pass). */
  pruneUnknownRecords(imageRefs: string[], untilMs: number): Promise<void> {
    return this.#pullManager.pruneUnknownRecords(imageRefs, untilMs);
  }

  async #nodeKeyring(): Promise<DockerKeyring> {
    const keyring = new BasicDockerKeyring();
    // An unreadable node config means no node logins, as the kubelet logs and goes on.
    if (this.#nodeCredentials !== undefined) keyring.add(await this.#nodeCredentials().catch(() => ({})));
    return keyring;
  }

  async ensureImageExists(req: EnsureImageRequest): Promise<EnsureImageResult> {
    await this.initialize();
    const { pod, container, record } = req;
    const requested = container.image ?? "";
    const fail = (type: "Normal" | "Warning", event: string, reason: ImageErrorReason, message: string): EnsureImageResult => {
      record(type, event, message);
      return { ok: false, reason, message };
    };

    let image: string;
    try {
      image = applyDefaultImageTag(requested);
    } catch (err) {
      return fail("Warning", "InspectFailed", "InvalidImageName", `Failed to apply default image tag ${q(requested)}: ${messageOf(err)}`);
    }
    const spec: ImageSpec = { image, userSpecifiedImage: requested };
    if (pod.metadata?.annotations !== undefined) spec.annotations = pod.metadata.annotations;
    const policy = containerPullPolicy(container);

    let imageRef = "";
    if (policy !== "Always") {
      try {
        imageRef = (await this.#service.imageStatus(spec)).image?.id ?? "";
      } catch (err) {
        // The kubelet formats the (still empty) image ref here, not the image.
        return fail("Warning", "InspectFailed", "ImageInspectError", `Failed to inspect image ${q(imageRef)}: ${messageOf(err)}`);
      }
      if (imageRef === "" && policy === "Never") return this.#neverPull(req, requested);
    }

    if (imageRef !== "" && !this.config.ensureSecretPulledImages) {
      const message = `Container image ${q(requested)} already present on machine`;
      record("Normal", "Pulled", message);
      return { ok: true, imageRef, message };
    }

    let credentials: TrackedAuthConfig[];
    try {
      const keyring = makeDockerKeyring(req.pullSecrets, await this.#nodeKeyring());
      credentials = keyring.lookup(parseImageName(image).repo);
    } catch (err) {
      return { ok: false, reason: "ErrImagePull", message: messageOf(err) };
    }

    if (imageRef !== "") {
      const podSecrets: ImagePullSecretRecord[] = credentials.flatMap((c) => (c.source === undefined ? [] : [{ ...c.source.secret, credentialHash: c.authConfigHash }]));
      if (!(await this.#pullManager.mustAttemptImagePull(image, imageRef, podSecrets))) {
        const message = `Container image ${q(requested)} already present on machine and can be accessed by the pod`;
        record("Normal", "Pulled", message);
        return { ok: true, imageRef, message };
      }
    }
    // Present but not provably the pod's to use: with Never, say it is not present (presence is not revealed).
    if (policy === "Never") return this.#neverPull(req, requested);
    return this.#pull(req, requested, spec, credentials);
  }

  #neverPull(req: EnsureImageRequest, requested: string): EnsureImageResult {
    const message = `Container image ${q(requested)} is not present with pull policy of Never`;
    req.record("Warning", "ErrImageNeverPull", message);
    return { ok: false, reason: "ErrImageNeverPull", message };
  }

  async #pull(req: EnsureImageRequest, requested: string, spec: ImageSpec, credentials: TrackedAuthConfig[]): Promise<EnsureImageResult> {
    const gate = this.config.ensureSecretPulledImages;
    if (gate) {
      try {
        await this.#pullManager.recordPullIntent(spec.image);
      } catch (err) {
        return { ok: false, reason: "ErrImagePull", message: `Failed to record image pull intent for container image ${q(spec.image)}: ${messageOf(err)}` };
      }
    }
    let pulled: PullResult | undefined;
    try {
      return await this.#backedOffPull(req, requested, spec, credentials, (r) => { pulled = r; });
    } finally {
      if (gate) {
        if (pulled !== undefined) await this.#pullManager.recordImagePulled(spec.image, pulled.imageRef, credentialsOfPull(pulled.credentialUsed)).catch(() => undefined);
        else await this.#pullManager.recordImagePullFailed(spec.image).catch(() => undefined);
      }
    }
  }

  async #backedOffPull(
    req: EnsureImageRequest, requested: string, spec: ImageSpec, credentials: TrackedAuthConfig[], onPulled: (r: PullResult) => void,
  ): Promise<EnsureImageResult> {
    const key = `${req.pod.metadata?.uid ?? ""}_${requested}`;
    if (this.backOff.isInBackOffSinceUpdate(key, this.#clock.now())) {
      const message = `Back-off pulling image ${q(requested)}`;
      req.record("Normal", "BackOff", message);
      const prev = this.#prevPullErrMsg.get(key);
      return { ok: false, reason: "ImagePullBackOff", message: prev === undefined ? message : `${message}: ${prev}` };
    }
    this.#prevPullErrMsg.delete(key);
    req.record("Normal", "Pulling", `Pulling image ${q(requested)}`);
    const start = this.#clock.now();
    // One pull for every pod wanting the same image (however written) with the same logins.
    const flightKey = [parseDockerRef(spec.image).toString(), ...credentials.map((c) => c.authConfigHash)].join("\0");
    const pullReq = { spec, credentials, ...(req.sandboxConfig !== undefined ? { sandboxConfig: req.sandboxConfig } : {}) };
    const result = await this.#flights.do(flightKey, () => this.#puller.pullImage(pullReq));
    if (result.error !== undefined) {
      req.record("Warning", "Failed", `Failed to pull image ${q(requested)}: ${result.error.message}`);
      this.backOff.next(key, this.#clock.now());
      const { reason, message } = evalCRIPullErr(requested, result.error.message);
      this.#prevPullErrMsg.set(key, `${reason}: ${message}`);
      return { ok: false, reason, message };
    }
    const waited = Math.floor(this.#clock.now() - start);
    // A pod that joined a pull another pod started gets that pull's whole duration back; its own
    // share is at most what it waited (the kubelet times each caller's CRI call on its own).
    const pullMs = Math.min(Math.floor(result.pullDurationMs), waited);
    req.record("Normal", "Pulled",
      `Successfully pulled image ${q(requested)} in ${formatGoDuration(pullMs)} (${formatGoDuration(waited)} including waiting). Image size: ${result.imageSize} bytes.`);
    this.backOff.gc();
    // A pull shared with another pod reports that pod's credential; record this pod's equal one.
    const used = result.credentialUsed === undefined ? undefined : credentials.find((c) => c.authConfigHash === result.credentialUsed?.authConfigHash);
    onPulled(used === undefined ? { ...result, credentialUsed: undefined } : { ...result, credentialUsed: used });
    return { ok: true, imageRef: result.imageRef, message: "" };
  }
}
