// Where the CLI's reports go (IO at the edge): --format to stdout, `--output FILE` instead of stdout,
// `--output FORMAT=FILE` in another format too, GitHub's step summary; every file written 0600.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './config.js';
import type { Report } from './model.js';
import { formatGithub } from './reporters/github.js';
import { FORMATS, formatters, type Format, type FormatOptions } from './reporters/index.js';

export interface Destination {
  format: Format;
  /** undefined: stdout */
  file?: string;
}

/** `--output FILE` redirects the --format report; `--output sarif=FILE` adds another format. */
export function destinations(options: { format: string; output: string[] }): Destination[] {
  const list: Destination[] = [];
  let mainToFile = false;
  for (const value of options.output) {
    // FORMAT=FILE only when FORMAT is one of ours; anything else (report=final.json) is a file name
    const match = /^([A-Za-z]+)=(.+)$/.exec(value);
    const format = match?.[1]!.toLowerCase();
    if (match && format && (FORMATS as readonly string[]).includes(format)) list.push({ format: format as Format, file: match[2]! });
    else {
      list.push({ format: options.format as Format, file: value });
      mainToFile = true;
    }
  }
  if (!mainToFile) list.unshift({ format: options.format as Format });
  return list;
}

export interface ReportOutput {
  stdout: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Renders the report once per destination; `color` applies to the pretty report on stdout only. */
export function writeReports(report: Report, list: Destination[], options: FormatOptions, out: ReportOutput): void {
  for (const destination of list) {
    const toTerminal = destination.file === undefined;
    let text: string;
    if (destination.format === 'github') {
      const github = formatGithub(report);
      if (out.env.GITHUB_STEP_SUMMARY) writePrivate(out.env.GITHUB_STEP_SUMMARY, github.summary, true);
      text = github.stdout;
    } else text = formatters[destination.format](report, { ...options, color: toTerminal && options.color === true });
    if (destination.file) writePrivate(path.resolve(out.cwd, destination.file), text);
    else out.stdout(text);
  }
}

/** Writes a 0600 file (an existing one is tightened too); a failure is a one-line usage error, exit 2. */
export function writePrivate(file: string, text: string, append = false): void {
  try {
    if (append) fs.appendFileSync(file, text);
    else {
      fs.writeFileSync(file, text, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
    }
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Colours only on a terminal, and never with --no-color, NO_COLOR or CI. */
export function colorWanted(flag: boolean, env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') return false;
  return isTTY;
}
