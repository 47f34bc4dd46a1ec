/**
 * Keeps a layer-extraction thread's garbage bounded. Inflating a layer allocates a fresh
 * buffer for every piece zlib hands out (Node offers no way to give them back), and each is
 * garbage a moment later, once its bytes are written and hashed. V8 collects such buffers
 * only when its external memory has grown by about 64 MB since the last full collection,
 * and its young-generation collections do not reach them, so the thread's memory rose with
 * the size of the image. Here, whenever the thread's external memory passes `limitBytes`,
 * V8 is asked for a full collection (incremental, so the thread keeps running): peak memory
 * then stays near the limit whatever the image. V8 exposes that request only as `gc`
 * (the --expose-gc flag, set here at run time): the extraction worker is the one user.
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type GcFunction = (options?: { type?: "major" | "minor"; execution?: "sync" | "async" }) => void;

let gc: GcFunction | undefined;

function requestGc(): GcFunction {
  if (gc === undefined) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as GcFunction;
  }
  return gc;
}

/** Checks are made every `everyBytes` of data; a collection is asked for above `limitBytes` of external memory. */
export interface GarbageBoundOptions {
  limitBytes?: number;
  everyBytes?: number;
  /** What asks for the collection (default: V8's incremental full collection). */
  collect?: () => void;
}

/** Passes `src` through, asking V8 for a collection whenever external memory passes the limit. */
export async function* boundGarbage(src: AsyncIterable<Buffer>, opts: GarbageBoundOptions = {}): AsyncGenerator<Buffer> {
  const limit = opts.limitBytes ?? 40 << 20;
  const every = opts.everyBytes ?? 4 << 20;
  const collect = opts.collect ?? ((): void => requestGc()({ type: "major", execution: "async" }));
  let since = 0;
  for await (const chunk of src) {
    yield chunk;
    since += chunk.length;
    if (since < every) continue;
    since = 0;
    if (getHeapStatistics().external_memory > limit) collect();
  }
}
