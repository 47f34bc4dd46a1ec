/**
 * The seam between `podyard up`/`podyard kubelet` and the parts they start: the API server
 * (src/apiserver) on a given HTTPS server, and the node (the runtime, the image manager,
 * the kubelet and its HTTPS server). agent.ts and kubelet-agent.ts only call these two.
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Clock } from "../../clock/index.js";
import type { ImageManagerConfig } from "../../images/index.js";
import type { NodeEnv } from "../node-env.js";
import type { UserInfo } from "./credentials.js";

export interface ApiServerPartOptions {
  home: string;
  /** the HTTPS server the API is served on (already listening) */
  server: HttpServer;
  authenticate: (req: IncomingMessage) => UserInfo | undefined;
  kubeletClient: { cert: Buffer; key: Buffer };
  /** the CA kubelets' serving certificates chain to; without it they are not verified */
  kubeletCA?: Buffer;
  /** `127.0.0.1:6443`, for /api's serverAddressByClientCIDRs */
  serverAddress: string;
  clock: Clock;
}

export interface RunningApiServer {
  close(): Promise<void>;
}

export interface NodePartOptions {
  home: string;
  env: NodeEnv;
  /** how the kubelet reaches the API server */
  kubeconfigPath: string;
  nodeName: string;
  nodeIP: string;
  runtime: "crun" | "runc";
  /** 0 picks a free port */
  kubeletPort: number;
  kubeletTls: { cert: Buffer; key: Buffer; clientCA: Buffer };
  podManifestPath?: string;
  /** the kubelet's podPidsLimit; -1 or absent: no limit */
  podPidsLimit?: number;
  imageConfig: ImageManagerConfig;
  clock: Clock;
  log: (line: string) => void;
}

export interface RunningNode {
  /** the port the kubelet's HTTPS server listens on */
  kubeletPort: number;
  /** stops the kubelet; with removePods, also every pod's containers and sandbox */
  stop(opts: { removePods: boolean }): Promise<void>;
}

export interface AgentParts {
  startApiServer(opts: ApiServerPartOptions): Promise<RunningApiServer>;
  startNode(opts: NodePartOptions): Promise<RunningNode>;
}
