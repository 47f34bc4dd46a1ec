/**
 * The remotecommand WebSocket subprotocols (apimachinery/pkg/util/remotecommand/constants.go,
 * wsstream/conn.go): which channels each has, how the error channel is written, and the
 * server's preference when a client offers several.
 */

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: `[255, channel]` from the client closes that channel (stdin EOF). */
export const CLOSE = 255;

export interface ChannelProtocol {
  name: string;
  /** Text frames with an ASCII channel digit and base64 data (browsers). */
  base64: boolean;
  /** v4+: channel 3 carries one JSON metav1.Status; before, only an error text on failure. */
  statusJson: boolean;
  /** v3+: channel 4 carries terminal sizes. */
  resize: boolean;
  /** v5: the client may send CLOSE frames. */
  close: boolean;
}

const PROTOCOLS: ChannelProtocol[] = [
  { name: "v5.channel.k8s.io", base64: false, statusJson: true, resize: true, close: true },
  { name: "v4.channel.k8s.io", base64: false, statusJson: true, resize: true, close: false },
  { name: "v3.channel.k8s.io", base64: false, statusJson: false, resize: true, close: false },
  { name: "v2.channel.k8s.io", base64: false, statusJson: false, resize: false, close: false },
  { name: "channel.k8s.io", base64: false, statusJson: false, resize: false, close: false },
  { name: "v5.base64.channel.k8s.io", base64: true, statusJson: true, resize: true, close: true },
  { name: "v4.base64.channel.k8s.io", base64: true, statusJson: true, resize: true, close: false },
  { name: "base64.channel.k8s.io", base64: true, statusJson: false, resize: false, close: false },
];

/** The protocol the server picks from those the client offers, newest first; undefined when none is known. */
export function selectProtocol(offered: Iterable<string>): ChannelProtocol | undefined {
  const set = new Set([...offered].map((p) => p.trim()));
  return PROTOCOLS.find((p) => set.has(p.name));
}

export function protocolByName(name: string): ChannelProtocol | undefined {
  return PROTOCOLS.find((p) => p.name === name);
}

/** One server→client frame. */
export function encodeFrame(protocol: ChannelProtocol, channel: number, data: Buffer): Buffer | string {
  if (protocol.base64) return String(channel) + data.toString("base64");
  const frame = Buffer.allocUnsafe(data.length + 1);
  frame[0] = channel;
  data.copy(frame, 1);
  return frame;
}

/** One client→server frame as channel and payload; undefined for an empty or malformed frame. */
export function decodeFrame(protocol: ChannelProtocol, data: Buffer, isBinary: boolean): { channel: number; data: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (protocol.base64 && !isBinary) {
    const text = data.toString("latin1");
    const channel = text.charCodeAt(0) - 48;
    if (channel < 0 || channel > 9) return undefined;
    return { channel, data: Buffer.from(text.slice(1), "base64") };
  }
  return { channel: data[0] ?? 0, data: data.subarray(1) };
}
