// Counts the reads of one inode (fs.readSync on an fd whose fstat gives that ino): how tests prove a file
// with many names was read once.
import fs from 'node:fs';
import { vi } from 'vitest';

export function spyOnReadsOf(ino: number): { reads: () => number; restore: () => void } {
  const real = fs.readSync;
  let reads = 0;
  const spy = vi.spyOn(fs, 'readSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
    if (fs.fstatSync(fd).ino === ino) reads += 1;
    return (real as (...args: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.readSync);
  return { reads: () => reads, restore: () => spy.mockRestore() };
}
