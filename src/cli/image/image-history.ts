/** `docker history`'s rows: one per history step, newest first, with the unpacked size of the layer it made. */
import { layerSizes, layerSnapshots, type LocalImageService } from "../../images/index.js";
import type { HistoryEntry } from "../../oci/index.js";

export interface HistoryRow {
  id: string;
  created: string;
  createdBy: string;
  size: number;
  comment: string;
}

export async function imageHistory(service: LocalImageService, image: string): Promise<HistoryRow[]> {
  await service.upgradeRecords();
  const d = await service.details(image);
  const top = d.record.chainID;
  const sizes = top === undefined ? [] : await layerSizes(service.snapshotter, await layerSnapshots(service.snapshotter, top));
  const rows: HistoryRow[] = [];
  const history: HistoryEntry[] = d.config.history ?? d.manifest.layers.map(() => ({}));
  let layer = 0;
  for (const h of history) {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : sizes[layer++] ?? 0;
    rows.push({ id: "<missing>", created: h.created ?? "", createdBy: h.created_by ?? "", size, comment: h.comment ?? "" });
  }
  const newest = rows[rows.length - 1];
  if (newest) newest.id = d.record.configDigest;
  return rows.reverse();
}
