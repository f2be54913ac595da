// `resonix-migrate completion bash|zsh|fish`: a shell completion script built from commander's command tree
// (commands, their flags, the values a flag takes: formats and other choices, rule ids for --rule/--only/--skip
// and explain, files or dirs), so it cannot drift from the CLI. Pure: describe a Command, then print a script.
import type { Command, Option } from 'commander';
import type { Rule } from './model.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a flag's value or a positional argument completes to. */
export type Values = { kind: 'none' } | { kind: 'files' } | { kind: 'dirs' } | { kind: 'words'; words: string[] } | { kind: 'rule-severity'; ids: string[] };

export interface FlagSpec {
  /** long and short spellings: ['--format'], ['-V', '--version'] */
  names: string[];
  description: string;
  /** undefined: a switch that takes no value */
  value?: Values;
  repeatable: boolean;
}

export interface CommandSpec {
  name: string;
  description: string;
  flags: FlagSpec[];
  /** positional arguments, in order */
  args: Values[];
}

export interface ProgramSpec {
  name: string;
  ruleIds: string[];
  flags: FlagSpec[];
  commands: CommandSpec[];
}

const SEVERITY_SETTINGS = ['off', 'info', 'warning', 'error'];
const FILE_FLAGS = new Set(['--config', '--output', '--baseline', '--write-baseline', '--snapshot', '--out', '--against']);
const DIR_FLAGS = new Set(['--home', '--state-dir']);
const HELP: FlagSpec = { names: ['-h', '--help'], description: 'display help for command', repeatable: false };

function flagValues(option: Option, ruleIds: string[]): Values | undefined {
  if (!option.required && !option.optional) return undefined;
  const long = option.long ?? '';
  if (option.argChoices) return { kind: 'words', words: [...option.argChoices] };
  if (long === '--rule') return { kind: 'rule-severity', ids: ruleIds };
  if (long === '--only' || long === '--skip') return { kind: 'words', words: ruleIds };
  if (FILE_FLAGS.has(long)) return { kind: 'files' };
  if (DIR_FLAGS.has(long)) return { kind: 'dirs' };
  return { kind: 'none' };
}

function flagSpec(option: Option, ruleIds: string[]): FlagSpec {
  const value = flagValues(option, ruleIds);
  // commander's collect() options start from [] and take the flag again and again
  const repeatable = option.variadic || Array.isArray(option.defaultValue);
  return { names: [option.short, option.long].filter((name): name is string => name !== undefined), description: option.description, ...(value ? { value } : {}), repeatable };
}

/** The positional values of a command's arguments: rule ids, archives, dirs, or the argument's choices. */
function argumentValues(command: Command, ruleIds: string[], commandNames: string[]): Values[] {
  return command.registeredArguments.map((argument) => {
    const name = argument.name();
    if (argument.argChoices) return { kind: 'words', words: [...argument.argChoices] };
    if (name === 'rule') return { kind: 'words', words: ruleIds };
    if (name === 'command') return { kind: 'words', words: commandNames };
    if (name === 'rootfs') return { kind: 'dirs' };
    return { kind: 'files' };
  });
}

export function describeProgram(program: Command, rules: readonly Rule[]): ProgramSpec {
  const ruleIds = rules.map((rule) => rule.meta.id);
  const names = program.commands.map((command) => command.name());
  const commands: CommandSpec[] = program.commands.map((command) => ({
    name: command.name(),
    description: command.description(),
    flags: [...command.options.map((option) => flagSpec(option, ruleIds)), HELP],
    args: argumentValues(command, ruleIds, names),
  }));
  // commander's implicit `help [command]`
  if (!names.includes('help')) commands.push({ name: 'help', description: 'display help for command', flags: [], args: [{ kind: 'words', words: names }] });
  const flags = [...program.options.map((option) => flagSpec(option, ruleIds)), HELP];
  return { name: program.name(), ruleIds, flags, commands };
}

/** Words that go into a script unquoted must be plain: ids, formats, commands, flags. */
function plain(words: string[]): string {
  for (const word of words) if (!/^[A-Za-z0-9_./=*-]+$/.test(word)) throw new Error(`completion: "${word}" is not a plain word`);
  return words.join(' ');
}

function ruleSeverityWords(ids: string[]): string[] {
  return ids.flatMap((id) => SEVERITY_SETTINGS.map((severity) => `${id}=${severity}`));
}

// ---- bash ----

/** Rule ids are listed once, in locals of the completion function. */
function bashValues(values: Values, ruleIds: string[]): string {
  switch (values.kind) {
    case 'files':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
    case 'dirs':
      return 'COMPREPLY=($(compgen -d -- "$cur"))';
    case 'words': {
      const words = values.words.join(' ') === ruleIds.join(' ') ? '$rule_ids' : plain(values.words);
      return `COMPREPLY=($(compgen -W "${words}" -- "$cur"))`;
    }
    case 'rule-severity':
      // ID= first (the "=" is a word break for bash), then the severity: see the "=" case above
      return 'COMPREPLY=($(compgen -W "$rule_ids_eq" -- "$cur")); compopt -o nospace 2>/dev/null';
    default:
      return 'COMPREPLY=()';
  }
}

function bashCommand(command: CommandSpec | { name: string; flags: FlagSpec[]; args: Values[] }, label: string, ruleIds: string[]): string {
  const byValue = new Map<string, string[]>();
  for (const flag of command.flags) {
    if (!flag.value) continue;
    const action = bashValues(flag.value, ruleIds);
    byValue.set(action, [...(byValue.get(action) ?? []), ...flag.names]);
  }
  const valueCases = [...byValue].map(([action, names]) => `        ${names.join('|')}) ${action}; return 0 ;;`);
  const flags = plain(command.flags.flatMap((flag) => flag.names));
  const positional = command.args[0] ? bashValues(command.args[0], ruleIds) : 'COMPREPLY=()';
  return [
    `    ${label})`,
    ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
    `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${flags}" -- "$cur")); else ${positional}; fi`,
    '      ;;',
  ].join('\n');
}

function bashScript(spec: ProgramSpec): string {
  const ruleIds = spec.ruleIds;
  const fn = `_${spec.name.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  const top = { name: '', flags: spec.flags, args: [{ kind: 'words' as const, words: spec.commands.map((command) => command.name) }] };
  return `# bash completion for ${spec.name}, generated by \`${spec.name} completion bash\`. Install:
#   ${spec.name} completion bash > ~/.local/share/bash-completion/completions/${spec.name}
# or add to ~/.bashrc:  eval "$(${spec.name} completion bash)"
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" key="" cmd="" i
  local rule_ids="${plain(ruleIds)}"
  local rule_ids_eq="${plain(ruleIds.map((id) => `${id}=`))}"
  # bash splits ID=SEVERITY and --flag=VALUE at the "=" (COMP_WORDBREAKS)
  if [[ "$cur" == "=" ]]; then
    cur=""; key="\${COMP_WORDS[COMP_CWORD-1]}"; prev="\${COMP_WORDS[COMP_CWORD-2]}"
  elif (( COMP_CWORD >= 2 )) && [[ "\${COMP_WORDS[COMP_CWORD-1]}" == "=" ]]; then
    key="\${COMP_WORDS[COMP_CWORD-2]}"; prev="\${COMP_WORDS[COMP_CWORD-3]}"
  elif (( COMP_CWORD >= 1 )); then
    prev="\${COMP_WORDS[COMP_CWORD-1]}"
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*|=) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -n "$key" ]]; then
    if [[ "$key" == --* ]]; then
      prev="$key"
    elif [[ "$prev" == "--rule" ]]; then
      COMPREPLY=($(compgen -W "${plain(SEVERITY_SETTINGS)}" -- "$cur")); return 0
    else
      COMPREPLY=(); return 0
    fi
  fi
  case "$cmd" in
${[...spec.commands.map((command) => bashCommand(command, command.name, ruleIds)), bashCommand(top, '*', ruleIds)].join('\n')}
  esac
  return 0
}
complete -o filenames -F ${fn} ${spec.name}
`;
}

// ---- zsh ----

/** A single-quoted zsh word whose text goes inside _arguments' [description]. */
function zshDescription(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/[[\]:]/g, (char) => `\\${char}`).replace(/'/g, `'\\''`);
}

function zshAction(values: Values, message: string): string {
  switch (values.kind) {
    case 'files':
      return `:${message}:_files`;
    case 'dirs':
      return `:${message}:_files -/`;
    case 'words':
      return `:${message}:(${plain(values.words)})`;
    case 'rule-severity':
      return `:${message}:(${plain(ruleSeverityWords(values.ids))})`;
    default:
      return `:${message}: `;
  }
}

function zshFlag(flag: FlagSpec): string {
  const description = `[${zshDescription(flag.description)}]`;
  const value = flag.value ? zshAction(flag.value, flag.names[flag.names.length - 1]!.replace(/^-+/, '')) : '';
  if (flag.names.length > 1) {
    const exclusive = `(${flag.names.join(' ')})`;
    return `'${exclusive}'{${flag.names.join(',')}}'${description}${value}'`;
  }
  return `'${flag.repeatable ? '*' : ''}${flag.names[0]}${description}${value}'`;
}

function zshScript(spec: ProgramSpec): string {
  const fn = `_${spec.name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const commands = spec.commands.map((command) => `    '${command.name}:${command.description.replace(/'/g, `'\\''`)}'`);
  const cases = spec.commands.map((command) => {
    const specs = [...command.flags.map(zshFlag), ...command.args.map((values, index) => `'${zshAction(values, `arg${index + 1}`)}'`)];
    return `    ${command.name})\n      _arguments -s \\\n        ${specs.join(' \\\n        ')}\n      ;;`;
  });
  return `#compdef ${spec.name}
# zsh completion for ${spec.name}, generated by \`${spec.name} completion zsh\`. Install: save it as _${spec.name}
# in a dir of your $fpath (e.g. ${spec.name} completion zsh > ~/.zfunc/_${spec.name}, with fpath+=~/.zfunc before
# compinit in ~/.zshrc), or add to ~/.zshrc after compinit:  eval "$(${spec.name} completion zsh)"
${fn}() {
  local -a commands
  commands=(
${commands.join('\n')}
  )
  if (( CURRENT == 2 )); then
    if [[ "$words[CURRENT]" == -* ]]; then
      _arguments ${spec.flags.map(zshFlag).join(' ')}
    else
      _describe -t commands '${spec.name} command' commands
    fi
    return
  fi
  local cmd="$words[2]"
  shift words
  (( CURRENT-- ))
  case "$cmd" in
${cases.join('\n')}
  esac
}
if [[ "\${funcstack[1]}" == "${fn}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${spec.name}
fi
`;
}

// ---- fish ----

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishValues(values: Values): string {
  switch (values.kind) {
    case 'files':
      return '-r -F';
    case 'dirs':
      return "-x -a '(__fish_complete_directories)'";
    case 'words':
      return `-x -a ${fishQuote(plain(values.words))}`;
    case 'rule-severity':
      return `-x -a ${fishQuote(plain(ruleSeverityWords(values.ids)))}`;
    default:
      return '-x';
  }
}

function fishFlag(flag: FlagSpec, condition: string, program: string): string {
  const names = flag.names.map((name) => (name.startsWith('--') ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`)).join(' ');
  return `complete -c ${program} -n ${fishQuote(condition)} ${names}${flag.value ? ` ${fishValues(flag.value)}` : ''} -d ${fishQuote(flag.description)}`;
}

function fishScript(spec: ProgramSpec): string {
  const lines = [
    `# fish completion for ${spec.name}, generated by \`${spec.name} completion fish\`. Install:`,
    `#   ${spec.name} completion fish > ~/.config/fish/completions/${spec.name}.fish`,
    `complete -c ${spec.name} -f`,
    ...spec.flags.map((flag) => fishFlag(flag, '__fish_use_subcommand', spec.name)),
    ...spec.commands.map((command) => `complete -c ${spec.name} -n __fish_use_subcommand -a ${command.name} -d ${fishQuote(command.description)}`),
  ];
  for (const command of spec.commands) {
    const condition = `__fish_seen_subcommand_from ${command.name}`;
    for (const flag of command.flags) lines.push(fishFlag(flag, condition, spec.name));
    const first = command.args[0];
    if (first && first.kind !== 'none') {
      const action = first.kind === 'files' ? '-F' : first.kind === 'dirs' ? "-a '(__fish_complete_directories)'" : fishValues(first).replace(/^-x /, '');
      lines.push(`complete -c ${spec.name} -n ${fishQuote(condition)} ${action}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, spec: ProgramSpec): string {
  if (shell === 'bash') return bashScript(spec);
  if (shell === 'zsh') return zshScript(spec);
  return fishScript(spec);
}
