// The decompression budget one scan shares between all its archives. Kept apart from list.ts so
// the scan can make one without loading the archive listers (tar-stream, yauzl).

/**
 * One budget for all the archives a scan looks into: anyone who can write to /tmp can plant a gzip bomb,
 * and hard links make one bomb many files. Tar bytes read (after decompression) and wall time both count.
 */
export interface DecompressionBudget {
  bytesLeft: number;
  /** Date.now() after which nothing more is decompressed */
  deadline: number;
  readonly bytes: number;
  readonly ms: number;
}

export const SCAN_DECOMPRESS_BYTES = 4 * 1024 ** 3;
export const SCAN_DECOMPRESS_MS = 15_000;

export function decompressionBudget(bytes = SCAN_DECOMPRESS_BYTES, ms = SCAN_DECOMPRESS_MS): DecompressionBudget {
  return { bytesLeft: bytes, deadline: Date.now() + ms, bytes, ms };
}

export function budgetSpent(budget: DecompressionBudget | undefined): boolean {
  return budget !== undefined && (budget.bytesLeft <= 0 || Date.now() > budget.deadline);
}

/** A byte count as the messages about archive limits say it: `256 MiB`, `1.5 GiB`, `900 bytes`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
