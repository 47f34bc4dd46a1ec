/**
 * How pulls run (pkg/kubelet/images/puller.go): one at a time from a FIFO queue of 10, or
 * side by side holding one of `maxParallelImagePulls` tokens; and the registry QPS throttle
 * (`throttleImagePulling`) in front of the CRI. A pull tries the pod's credentials in order
 * (kuberuntime_image.go `PullImage`); the first that works wins.
 */
import type { Clock } from "../../clock/index.js";
import { Limiter } from "../../concurrency/index.js";
import { errorClass, errorMessage } from "../../errdefs/index.js";
import type { AuthConfig, ImageService, ImageSpec, PodSandboxConfig } from "../cri.js";
import { aggregateMessage } from "../../gofmt/index.js";
import type { TrackedAuthConfig } from "./keyring.js";

export interface PullRequest {
  spec: ImageSpec;
  /** The credentials to try, in order; empty: one anonymous pull (the node's own logins apply). */
  credentials: TrackedAuthConfig[];
  sandboxConfig?: PodSandboxConfig;
}

export interface PullResult {
  imageRef: string;
  imageSize: number;
  /** The failure, with the message the kubelet shows (CRI error text). */
  error?: Error;
  /** Time spent pulling, credential attempts and the size lookup included, the queue excluded. */
  pullDurationMs: number;
  /** The credential that worked; undefined for an anonymous pull. */
  credentialUsed?: TrackedAuthConfig;
}

export interface ImagePuller {
  pullImage(req: PullRequest): Promise<PullResult>;
}

/**
 * The text a CRI error reaches the kubelet with. Over gRPC, containerd's errors classed NotFound
 * keep their status (`rpc error: code = NotFound desc = …`); unclassified ones come as the bare
 * message (remote_image.go strips `codes.Unknown`).
 */
export function criErrorMessage(err: unknown): string {
  const message = goNetErrorText(errorMessage(err));
  return errorClass(err) === "NotFound" ? `rpc error: code = NotFound desc = ${message}` : message;
}

/**
 * Node's socket error texts in the words of Go's net package, which kubectl users know from
 * containerd (`dial tcp 127.0.0.1:5000: connect: connection refused`).
 */
function goNetErrorText(message: string): string {
  return message
    .replace(/\bconnect ECONNREFUSED (\S+)/g, "dial tcp $1: connect: connection refused")
    .replace(/\bconnect ETIMEDOUT (\S+)/g, "dial tcp $1: i/o timeout")
    .replace(/\bgetaddrinfo (?:ENOTFOUND|EAI_AGAIN) (\S+)/g, "dial tcp: lookup $1: no such host");
}

/** A token bucket (client-go `NewTokenBucketRateLimiter`): starts full with `burst`, refills `qps` per second. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock) {
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes a token if one is there. */
  tryAccept(): boolean {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** The image service with pulls throttled to `qps` (0: unlimited); a refused pull fails with `pull QPS exceeded`. */
export function throttleImagePulling(service: ImageService, qps: number, burst: number, clock: Clock): ImageService {
  if (qps === 0) return service;
  const bucket = new TokenBucket(qps, burst, clock);
  return {
    listImages: (f) => service.listImages(f),
    imageStatus: (i, v) => service.imageStatus(i, v),
    removeImage: (i) => service.removeImage(i),
    imageFsInfo: () => service.imageFsInfo(),
    pullImage: (image, auth, sandbox) => {
      if (!bucket.tryAccept()) return Promise.reject(new Error("pull QPS exceeded"));
      return service.pullImage(image, auth, sandbox);
    },
  };
}

function authOf(cred: TrackedAuthConfig): AuthConfig {
  return { username: cred.username, password: cred.password };
}

/** One pull: each credential in turn (or none), then the image's size (0 when it cannot be read). */
export async function pullWithCredentials(service: ImageService, clock: Clock, req: PullRequest): Promise<PullResult> {
  const start = clock.now();
  let imageRef = "";
  let used: TrackedAuthConfig | undefined;
  const errors: string[] = [];
  let firstError: unknown;
  const attempts: (TrackedAuthConfig | undefined)[] = req.credentials.length === 0 ? [undefined] : req.credentials;
  for (const cred of attempts) {
    try {
      imageRef = (await service.pullImage(req.spec, cred === undefined ? undefined : authOf(cred), req.sandboxConfig)).imageRef;
      used = cred;
      break;
    } catch (err) {
      firstError ??= err;
      errors.push(criErrorMessage(err));
    }
  }
  if (imageRef === "") {
    const error = new Error(aggregateMessage(errors.length > 0 ? errors : ["image pull returned no image reference"]), { cause: firstError });
    return { imageRef: "", imageSize: 0, error, pullDurationMs: clock.now() - start };
  }
  let imageSize = 0;
  try {
    imageSize = (await service.imageStatus({ image: imageRef })).image?.size ?? 0;
  } catch {
    // Best effort, as GetImageSize: the event then says 0 bytes.
  }
  const result: PullResult = { imageRef, imageSize, pullDurationMs: clock.now() - start };
  if (used !== undefined) result.credentialUsed = used;
  return result;
}

/** Pulls one at a time in arrival order; at most 10 wait, further callers wait for room. */
export class SerialImagePuller implements ImagePuller {
  static readonly MAX_QUEUED = 10;
  readonly #service: ImageService;
  readonly #clock: Clock;
  readonly #queue: { req: PullRequest; resolve: (r: PullResult) => void }[] = [];
  readonly #waitingForRoom: (() => void)[] = [];
  #running = false;

  constructor(service: ImageService, clock: Clock) {
    this.#service = service;
    this.#clock = clock;
  }

  /** Pulls waiting in the queue (not the one running, nor callers waiting for room). */
  get queued(): number {
    return this.#queue.length;
  }

  async pullImage(req: PullRequest): Promise<PullResult> {
    while (this.#queue.length >= SerialImagePuller.MAX_QUEUED) await new Promise<void>((resolve) => this.#waitingForRoom.push(resolve));
    const done = new Promise<PullResult>((resolve) => this.#queue.push({ req, resolve }));
    void this.#drain();
    return done;
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let item = this.#queue.shift(); item !== undefined; item = this.#queue.shift()) {
        this.#waitingForRoom.shift()?.();
        item.resolve(await pullWithCredentials(this.#service, this.#clock, item.req));
      }
    } finally {
      this.#running = false;
    }
  }
}

/** Pulls side by side, each holding one of `maxParallel` tokens (undefined: no limit). */
export class ParallelImagePuller implements ImagePuller {
  readonly #service: ImageService;
  readonly #clock: Clock;
  readonly #tokens: Limiter | undefined;

  constructor(service: ImageService, clock: Clock, maxParallel?: number) {
    this.#service = service;
    this.#clock = clock;
    this.#tokens = maxParallel !== undefined && maxParallel >= 1 ? new Limiter(maxParallel) : undefined;
  }

  pullImage(req: PullRequest): Promise<PullResult> {
    const pull = (): Promise<PullResult> => pullWithCredentials(this.#service, this.#clock, req);
    return this.#tokens === undefined ? pull() : this.#tokens.run(pull);
  }
}
