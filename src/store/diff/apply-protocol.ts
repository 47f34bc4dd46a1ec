/**
 * The messages between the main thread (WorkerLayerApplier) and a layer-extraction
 * worker (apply-worker.ts), and errors as they cross: message, name and error class.
 */
import { errorClass, isErrorClass, newError } from "../../errdefs/index.js";

export interface ApplyRequest {
  type: "apply";
  id: number;
  dir: string;
  path: string;
  /** The blob is still growing: what is on disk so far. Without it the file is whole. */
  feed?: { available: number; complete: boolean };
  maxBytes?: number;
}

export interface WireError {
  message: string;
  errorClass?: string;
  name: string;
}

export type FeedMessage =
  | { type: "feed"; id: number; path: string; available: number; complete: boolean }
  | { type: "feed-failed"; id: number; error: WireError };

export type ApplyResponse =
  | { id: number; diffID: string; size: number; skipped: [string, string][] }
  | { id: number; error: WireError };

export function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const cls = errorClass(e);
  return { message: e.message, name: e.name, ...(cls ? { errorClass: cls } : {}) };
}

/** The error a WireError stood for, with its class, so callers can still test it (isInvalidArgument, ...). */
export function fromWireError(e: WireError): Error {
  if (e.errorClass !== undefined && isErrorClass(e.errorClass)) return newError(e.errorClass, e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
