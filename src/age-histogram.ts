/**
 * Disk pressure (issue 11) chooses the oldest files to delete without a list of every file sorted
 * by age: a first pass counts the bytes each deletion would free per hour of modification time,
 * and the cut, the age above which enough is freed, comes from these counts; a second pass
 * deletes what is older than the cut. Memory grows with the span of hours the files cover (at
 * most 8,784 a year), never with the number of files. Pure: no file system, no clock.
 */

export const HOUR_MS = 3_600_000;

/** What a cut frees: files with a modification time strictly before `cutMs`. */
export interface Cut {
  /** Delete files with mtime < cutMs; -Infinity: nothing needs deleting. */
  readonly cutMs: number;
  readonly files: number;
  readonly bytes: number;
  /** False when even every counted file together frees less than was needed. */
  readonly reached: boolean;
}

/** Plain data for a histogram: [bucket, files, bytes] triples (crosses to and from workers). */
export type HistogramData = readonly (readonly [bucket: number, files: number, bytes: number])[];

export class AgeHistogram {
  private readonly counts = new Map<number, { files: number; bytes: number }>();

  constructor(readonly bucketMs = HOUR_MS) {}

  /** Counts one file: its modification time, and the bytes deleting it would free. */
  add(mtimeMs: number, freeableBytes: number): void {
    const bucket = Math.floor(mtimeMs / this.bucketMs);
    const count = this.counts.get(bucket);
    if (count) {
      count.files++;
      count.bytes += freeableBytes;
    } else {
      this.counts.set(bucket, { files: 1, bytes: freeableBytes });
    }
  }

  /** Adds the counts of another histogram's data (a worker's share) into this one. */
  merge(data: HistogramData): void {
    for (const [bucket, files, bytes] of data) {
      const count = this.counts.get(bucket);
      if (count) {
        count.files += files;
        count.bytes += bytes;
      } else {
        this.counts.set(bucket, { files, bytes });
      }
    }
  }

  toData(): HistogramData {
    return [...this.counts].map(([bucket, c]) => [bucket, c.files, c.bytes] as const);
  }

  /**
   * The youngest cut that frees at least `needBytes`, oldest hours first: every file of an hour
   * goes together, so a cut may free up to one hour's files more than needed. When everything
   * counted frees less, the cut takes it all and `reached` is false.
   */
  cutFor(needBytes: number): Cut {
    if (!(needBytes > 0)) return { cutMs: Number.NEGATIVE_INFINITY, files: 0, bytes: 0, reached: true };
    const buckets = [...this.counts.keys()].sort((a, b) => a - b);
    let files = 0;
    let bytes = 0;
    for (const bucket of buckets) {
      const count = this.counts.get(bucket) as { files: number; bytes: number };
      files += count.files;
      bytes += count.bytes;
      if (bytes >= needBytes) return { cutMs: (bucket + 1) * this.bucketMs, files, bytes, reached: true };
    }
    const last = buckets[buckets.length - 1];
    return { cutMs: last === undefined ? Number.NEGATIVE_INFINITY : (last + 1) * this.bucketMs, files, bytes, reached: false };
  }
}
