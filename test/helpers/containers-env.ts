// Isolated environments for skopeo and podman, shared by the interop tests and bench/pull: a scratch
// HOME, XDG_RUNTIME_DIR, TMPDIR, auth file and registries.conf, and for podman its own storage.conf (temp
// graphroot and runroot) and containers.conf (runtime-notes §11: default_ulimits, runc, file locks, no
// events). As root, containers/image keeps its blob-info cache in /var/lib/containers/cache whatever the
// config says; `_CONTAINERS_ROOTLESS_UID` moves it under the scratch HOME, so every run starts cold and the
// machine's own container state is never touched.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** podman refuses a runroot longer than this ("the specified runroot is longer than 50 characters"). */
const MAX_RUNROOT = 50;

export interface ToolEnv {
  readonly env: NodeJS.ProcessEnv;
  /** The directory everything of this environment lives under. */
  readonly base: string;
}

/** The caller's environment minus anything that points containers/image at other config or state. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(CONTAINERS_|XDG_|DOCKER_|REGISTRY_AUTH_FILE$|_CONTAINERS_|TMPDIR$|PODYARD_)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** A skopeo environment under `base` (which must exist). */
export async function toolEnv(base: string): Promise<ToolEnv> {
  const home = join(base, "home");
  const runtime = join(base, "xdg-runtime");
  const tmp = join(base, "tmp");
  for (const d of [home, runtime, tmp]) await mkdir(d, { mode: 0o700 });
  const authFile = join(base, "auth.json");
  await writeFile(authFile, '{"auths":{}}\n', { mode: 0o600 });
  const registriesConf = join(base, "registries.conf");
  await writeFile(registriesConf, "unqualified-search-registries = []\n");
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    TMPDIR: tmp,
    REGISTRY_AUTH_FILE: authFile,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
  };
  if (process.getuid?.() === 0) env._CONTAINERS_ROOTLESS_UID = "1000";
  return { env, base };
}

export interface PodmanEnv extends ToolEnv {
  readonly driver: "overlay" | "vfs";
  readonly graphroot: string;
  readonly runroot: string;
  /** Dirs of this environment outside `base` (a short runroot), for the caller to remove. */
  readonly outside: readonly string[];
  /** The flags that go before every podman subcommand. */
  readonly globalFlags: readonly string[];
}

/** A podman environment under `base` (which must exist) with its own storage, driver `driver`. */
export async function podmanEnv(base: string, driver: "overlay" | "vfs"): Promise<PodmanEnv> {
  const tools = await toolEnv(base);
  const graphroot = join(base, "graph");
  let runroot = join(base, "run");
  const outside: string[] = [];
  if (runroot.length > MAX_RUNROOT) {
    runroot = await mkdtemp("/tmp/podyard-run-");
    outside.push(runroot);
  } else {
    await mkdir(runroot, { mode: 0o700 });
  }
  const engineTmp = join(base, "engine-tmp");
  const netConf = join(base, "networks");
  for (const d of [graphroot, engineTmp, netConf]) await mkdir(d, { mode: 0o700 });
  const storageConf = join(base, "storage.conf");
  await writeFile(
    storageConf,
    ["[storage]", `driver = "${driver}"`, `graphroot = ${JSON.stringify(graphroot)}`, `runroot = ${JSON.stringify(runroot)}`, ""].join("\n"),
  );
  const containersConf = join(base, "containers.conf");
  await writeFile(
    containersConf,
    [
      "[containers]",
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      'netns = "none"',
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "none"',
      'lock_type = "file"',
      `tmp_dir = ${JSON.stringify(engineTmp)}`,
      `image_copy_tmp_dir = ${JSON.stringify(join(base, "tmp"))}`,
      `static_dir = ${JSON.stringify(join(graphroot, "libpod"))}`,
      `volume_path = ${JSON.stringify(join(graphroot, "volumes"))}`,
      "[network]",
      `network_config_dir = ${JSON.stringify(netConf)}`,
      "",
    ].join("\n"),
  );
  return {
    env: { ...tools.env, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_CONF: containersConf },
    base,
    driver,
    graphroot,
    runroot,
    outside,
    globalFlags: ["--root", graphroot, "--runroot", runroot, "--storage-driver", driver],
  };
}
