// Shell quoting for the commands a report prints and the fixer plans. Pure.

/** Quotes a word for a POSIX shell only when it needs it. */
export function sh(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
