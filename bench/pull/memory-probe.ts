// Preloaded (`node --import`) into the podyard runs that can take it: samples process.memoryUsage() every
// 20 ms and, at exit, writes the peak of each figure (bytes) as JSON to $PODYARD_BENCH_MEMORY_FILE, so the
// report can say where a peak RSS goes (V8 heap, Buffers, the rest). Does nothing when the variable is unset.
import { writeFileSync } from "node:fs";

const file = process.env.PODYARD_BENCH_MEMORY_FILE;
if (file !== undefined && file !== "") {
  const peak: Record<string, number> = {};
  const sample = (): void => {
    for (const [k, v] of Object.entries(process.memoryUsage())) peak[k] = Math.max(peak[k] ?? 0, v);
  };
  setInterval(sample, 20).unref();
  process.once("exit", () => {
    sample();
    try {
      writeFileSync(file, JSON.stringify(peak));
    } catch {
      // the figures are optional
    }
  });
}
