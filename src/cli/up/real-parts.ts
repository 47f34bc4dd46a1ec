/**
 * The real parts behind parts.ts: src/apiserver, src/runtime, src/images' KubeletImageManager,
 * src/kubelet and its server. (Wired as the parts land on main.)
 */
import { NotImplementedError } from "../../errdefs/index.js";
import type { AgentParts } from "./parts.js";

export const realParts: AgentParts = {
  startApiServer() {
    return Promise.reject(new NotImplementedError("podyard up: this build has no API server yet (src/apiserver)"));
  },
  startNode() {
    return Promise.reject(new NotImplementedError("podyard up: this build has no kubelet yet (src/kubelet)"));
  },
};
