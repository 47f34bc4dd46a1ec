/** A minimal SPDY/3.1 server session (framing, zlib header blocks with the SPDY dictionary), for port forwarding. */
export { SpdySession, type SpdyStream } from "./session.js";
export type { SpdyHeaders } from "./header-codec.js";
