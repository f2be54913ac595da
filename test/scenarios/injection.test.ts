// File names are untrusted: a name that carries terminal escapes or a GitHub workflow command must come
// out visibly escaped in every format, never act.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveScenario, machineFrom, cleanupMachines } from './run.js';
import { entry } from '../helpers/scenario.js';

afterAll(cleanupMachines);

describe('hostile file names in findings', () => {
  it('ANSI escapes, newlines and ::error:: in names are escaped in pretty, github, markdown, junit and sarif', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    entry(scenario, '{home}/.resonix/').mode = '0755';
    const machine = await machineFrom(scenario);
    // world-writable files whose names attack the terminal and the CI log
    const names = ['clear\u001b[2Jscreen', 'line\n::error::pwned', 'end]]><testcase>', 'pipe | `tick` <script>'];
    for (const name of names) fs.writeFileSync(path.join(machine.home, '.resonix', name), 'x', { mode: 0o666 });
    for (const name of names) fs.chmodSync(path.join(machine.home, '.resonix', name), 0o666);

    const pretty = (await machine.cli(['audit', '--home', machine.home, '--verbose'])).stdout;
    expect(pretty).toContain('clear\\e[2Jscreen');
    expect(pretty).not.toContain('\u001b');
    expect(pretty).toContain('line\\n::error::pwned');

    const github = (await machine.cli(['audit', '--home', machine.home, '--format', 'github'])).stdout;
    const commands = github.split('\n').filter((line) => line.startsWith('::'));
    expect(github.split('\n').filter((line) => line !== '').every((line) => line.startsWith('::'))).toBe(true);
    expect(commands.some((line) => line.startsWith('::error::pwned'))).toBe(false);
    expect(github).not.toContain('\u001b');

    const markdown = (await machine.cli(['audit', '--home', machine.home, '--format', 'markdown'])).stdout;
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('\u001b');

    const junit = (await machine.cli(['audit', '--home', machine.home, '--format', 'junit'])).stdout;
    expect(junit).not.toContain('end]]><testcase>');
    expect(junit).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);

    const sarif = JSON.parse((await machine.cli(['audit', '--home', machine.home, '--format', 'sarif'])).stdout);
    expect(JSON.stringify(sarif)).not.toContain('\\u001b[2J');
  });
});
