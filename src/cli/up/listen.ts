/** Listening on an address, with a message that says which server and flag when it is taken. */
import type { Server } from "node:net";
import type { AddressInfo } from "node:net";
import { errnoCode, FailedPreconditionError, PermissionDeniedError } from "../../errdefs/index.js";

export interface Addr {
  host: string;
  port: number;
}

export function formatAddr(a: Addr): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** A listen failure in words that name the server, the address and the flag to change. */
export function listenError(err: unknown, addr: Addr, what: string, flag: string): unknown {
  const code = errnoCode(err);
  const where = formatAddr(addr);
  if (code === "EADDRINUSE") return new FailedPreconditionError(`${what}: address ${where} is already in use (another podyard up, or another server, listens there): choose a free one with ${flag}`, { cause: err });
  if (code === "EADDRNOTAVAIL") return new FailedPreconditionError(`${what}: address ${where} is not an address of this machine: choose another with ${flag}`, { cause: err });
  if (code === "EACCES") return new PermissionDeniedError(`${what}: not allowed to listen on ${where}: choose a port above 1023 with ${flag}, or run as root`, { cause: err });
  return err;
}

/** Listens on `addr`; resolves with the port taken (a free one for port 0). */
export async function listenOn(server: Server, addr: Addr, what: string, flag: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(listenError(err, addr, what, flag));
    server.once("error", onError);
    server.listen(addr.port, addr.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
