// A vitest reporter beside the default one: at the end of a run it lists every skipped test with why — the
// test's name (which says what it needs: "(needs root …)", "needs tar") and the note of a ctx.skip(note) —
// because the default reporter only counts skipped tests, and a fresh machine that skips half the
// root-only tests should say so where everyone looks.
import type { Reporter, TestModule } from 'vitest/node';

const MAX_LINES = 80;

export default class SkipReasons implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        if (test.options.mode === 'todo') continue;
        const result = test.result();
        const note = result.state === 'skipped' && result.note ? ` — ${result.note}` : '';
        lines.push(`  ${module.relativeModuleId} > ${test.fullName}${note}`);
      }
    }
    if (lines.length === 0) return;
    const shown = lines.slice(0, MAX_LINES);
    if (lines.length > MAX_LINES) shown.push(`  … and ${lines.length - MAX_LINES} more`);
    process.stdout.write(`\nSkipped ${lines.length} test${lines.length === 1 ? '' : 's'}, and why:\n${shown.join('\n')}\n`);
  }
}
