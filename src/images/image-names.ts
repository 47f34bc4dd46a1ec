/**
 * Which names an image has. An image is kept while it has a record: named records, or,
 * once no name is left (loaded or imported untagged, or its tag moved to another
 * image), one dangling record named by its image ID (docker's `<none>:<none>`). The
 * dangling record goes as soon as the image gets a name again.
 */
import { isDangling, type ImageRecord, type ImageRecordInput, type ImageStore } from "../store/index.js";

/**
 * Points `input.name` at its image and returns the record. The image's dangling record
 * goes; the image the name pointed at before becomes dangling if this was its last name.
 */
export function nameImage(images: ImageStore, input: ImageRecordInput): ImageRecord {
  const previous = images.get(input.name);
  const record = images.put(input);
  if (!isDangling(record) && images.get(record.configDigest) !== undefined) images.delete(record.configDigest);
  if (previous !== undefined && previous.configDigest !== record.configDigest) keepImage(images, previous);
  return record;
}

/**
 * Keeps the image of `record` as dangling when it has no record left. (`put` takes the
 * fields of a record and ignores the times the store keeps itself.)
 */
export function keepImage(images: ImageStore, record: ImageRecordInput): void {
  if (images.byConfigDigest(record.configDigest).length > 0) return;
  images.put({ ...record, name: record.configDigest });
}
