/**
 * Opens the node's image state under $PODYARD_HOME: the content store
 * (`content/`), the database (`podyard.db`), the snapshots (`snapshots/`), the
 * login store (`auth.json`) and the registry hosts (`hosts.json`), under the home's
 * lock (`lock.db`, see fsutil's acquireLock) and with its space reserve (`reserve`,
 * given back on a full disk so that reading and removing still work).
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { realClock } from "../clock/index.js";
import { isNotFound } from "../errdefs/index.js";
import { acquireLock, keepSpaceReserve, podyardHome } from "../fsutil/index.js";
import { LocalImageService } from "../images/index.js";
import {
  CredentialStore, defaultCredentialProvider, RegistryHosts, Resolver,
} from "../registry/client/index.js";
import { ImageStore, LocalContentStore, openDatabase, OverlaySnapshotter, type Database } from "../store/index.js";

export interface NodeEnv {
  home: string;
  content: LocalContentStore;
  db: Database;
  images: ImageStore;
  snapshotter: OverlaySnapshotter;
  resolver: Resolver;
  logins: CredentialStore;
  imageService: LocalImageService;
  close(): void;
}

export interface NodeEnvOptions {
  home?: string;
  /**
   * Hold $PODYARD_HOME/lock while open, so two podyard processes never change the stores
   * at once (the content store's and snapshotter's bookkeeping is per process). Default true.
   */
  lock?: boolean;
  /**
   * Only read the stores (images, inspect, history, fsck without --repair): the lock is
   * taken shared, so readers run side by side and wait only for a process that changes
   * the stores. Default false.
   */
  readOnly?: boolean;
  /** layer downloads at once (default 3) */
  concurrency?: number;
}

/** What a command waiting for the home's lock says; a running `podyard up` is named as such. */
export function lockWaitMessage(home: string, pid: number | undefined): string {
  let upPid: number | undefined;
  try {
    upPid = Number.parseInt(readFileSync(join(home, "podyard.pid"), "utf8").trim(), 10);
  } catch {
    // no podyard up ran here
  }
  if (pid !== undefined && pid === upPid) {
    return `waiting for the lock on ${home}: podyard up (pid ${pid}) holds it while the node runs; stop it with \`podyard down --home ${home}\`, or use another --home (push images to its registry instead)\n`;
  }
  return `waiting for the lock on ${home} held by ${pid === undefined ? "another process" : `pid ${pid}`}\n`;
}

export async function openNodeEnv(opts: NodeEnvOptions = {}): Promise<NodeEnv> {
  const home = opts.home ?? podyardHome();
  await mkdir(home, { recursive: true });
  const release = opts.lock === false ? () => {} : await acquireLock(join(home, "lock"), {
    clock: realClock,
    shared: opts.readOnly === true,
    noticeAfterMs: 1_000,
    onWait: (pid) => process.stderr.write(lockWaitMessage(home, pid)),
  });
  try {
    // on a full disk, give back the reserve so the database opens and removals can run
    if (opts.lock !== false) await keepSpaceReserve(join(home, "reserve"), { refill: opts.readOnly !== true });
    const content = new LocalContentStore(join(home, "content"));
    const db = openDatabase(join(home, "podyard.db"));
    const images = new ImageStore(db);
    const snapshotter = new OverlaySnapshotter(join(home, "snapshots"), { clock: realClock });
    // hosts.json is optional: without it every registry is reached directly
    const hosts = await RegistryHosts.load(join(home, "hosts.json")).catch((err: unknown) => {
      if (isNotFound(err)) return new RegistryHosts();
      throw err;
    });
    const authPath = join(home, "auth.json");
    const logins = new CredentialStore({ path: authPath });
    const resolver = new Resolver({ hosts, credentials: defaultCredentialProvider({ storePath: authPath }) });
    const imageService = new LocalImageService({
      content,
      images,
      snapshotter,
      resolver,
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    });
    const close = (): void => {
      void imageService.close();
      db.close();
      release();
    };
    return { home, content, db, images, snapshotter, resolver, logins, imageService, close };
  } catch (err) {
    release();
    throw err;
  }
}
