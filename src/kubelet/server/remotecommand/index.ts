export { selectProtocol, protocolByName, encodeFrame, decodeFrame, type ChannelProtocol } from "./protocols.js";
export { runWebSocketSession, type SessionOptions, type SessionBody } from "./websocket-session.js";
export { parseStreamRequest, streamRequestProblem, runExec, runAttach, type StreamRequest } from "./exec-attach.js";
export { TerminalSizeQueue } from "./terminal-size-queue.js";
export { negotiateSpdyProtocol, runSpdyRemoteCommand, SPDY_STREAM_PROTOCOLS } from "./spdy-streams.js";
