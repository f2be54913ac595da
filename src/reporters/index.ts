// Every report format by the name --format takes, behind one signature (report, options) → text, so the CLI
// and a library user pick a format by its name. Pure, like each reporter.
import type { Report, Rule } from '../model.js';
import { formatDoctorLint } from './doctor-lint.js';
import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatMarkdown } from './markdown.js';
import { formatPretty } from './pretty.js';
import { formatSarif } from './sarif.js';

export const FORMATS = ['pretty', 'json', 'sarif', 'junit', 'github', 'markdown', 'doctor-lint'] as const;
export type Format = (typeof FORMATS)[number];

export interface FormatOptions {
  /** the rules of the run (built-in and plugins'): SARIF, JUnit and doctor-lint describe them */
  rules: readonly Rule[];
  /** the run failed its gate: doctor-lint's `ok` is the opposite */
  failed?: boolean;
  /** SARIF automationDetails.id (--category) */
  category?: string | undefined;
  /** pretty: colours, errors only (--quiet), skipped rules and unreadable paths too (--verbose) */
  color?: boolean;
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
}

/** github: the workflow commands for stdout; its step summary is `formatGithub(report).summary`. */
export const formatters: Readonly<Record<Format, (report: Report, options: FormatOptions) => string>> = {
  pretty: (report, options) => formatPretty(report, { color: options.color === true, ...(options.quiet ? { quiet: true } : {}), ...(options.verbose ? { verbose: true } : {}) }),
  json: (report) => formatJson(report),
  sarif: (report, options) => formatSarif(report, options.rules, options.category ? { category: options.category } : {}),
  junit: (report, options) => formatJunit(report, options.rules),
  github: (report) => formatGithub(report).stdout,
  markdown: (report) => formatMarkdown(report),
  'doctor-lint': (report, options) => formatDoctorLint(report, options.rules, { ok: options.failed !== true }),
};
