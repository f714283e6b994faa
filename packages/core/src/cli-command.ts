/** The command kit's declarations and parsing: exit codes, {@link UsageError}, {@link CommandSpec}, help and `--version`. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isSrvError, SrvError } from './errors.js';

/** The exit codes of every srv command (the root README's table). */
export const exitCodes = {
  /** Served and stopped cleanly (SIGINT, SIGTERM), or answered `--help` / `--version`. */
  ok: 0,
  /** Could not start or run: address in use, permission denied, a failed query, an unexpected error. */
  failure: 1,
  /** A bad command line: unknown option, bad value, missing argument. One line on stderr. */
  usage: 2,
  /** A second SIGINT during the drain stopped the command at once (128 + SIGINT). */
  interrupted: 130,
} as const;

/** The code of {@link UsageError}. */
export const usageErrorCode = 'SRV_ERR_USAGE';

/** A command line the command cannot run: printed as one line (`name: message (see --help)`), exit 2. */
export class UsageError extends SrvError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(usageErrorCode, message, options);
    this.name = 'UsageError';
  }
}
Object.defineProperty(UsageError, 'name', { value: 'UsageError' });

/** True for a {@link UsageError}, also one thrown by another copy of the package. */
export function isUsageError(value: unknown): value is SrvError {
  return isSrvError(value, usageErrorCode);
}

/** One option of a command: parsing, validation and its help line, declared together. */
export interface OptionSpec {
  /** The long name, without `--` (`'port'` is `--port`). */
  readonly name: string;
  /** One letter, without `-` (`'p'` is `-p`). */
  readonly short?: string;
  /** The value's placeholder in the help (`'N'`, `'DIR'`); without it the option is a boolean flag. */
  readonly value?: string;
  /** The option may be given more than once; the values are collected in order. */
  readonly multiple?: boolean;
  /** The help text (one line, or several joined with `\n`). */
  readonly description: string;
  /**
   * Checks and converts a value; throws {@link UsageError} (see {@link usage}) for a bad one.
   * `flag` is how the user wrote the option (`-p`, `--port`).
   */
  readonly parse?: (text: string, flag: string) => unknown;
  /** Left out of the help (an alias or a legacy spelling). */
  readonly hidden?: boolean;
}

/** A positional argument, for the help's `Arguments:` section. */
export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
}

/** What a command is: its name, version and options. */
export interface CommandSpec {
  /** The command's name, the prefix of every message (`srv-static`). */
  readonly name: string;
  /** Printed by `--version` / `-v`. */
  readonly version: string;
  /** The usage lines, without the leading `Usage: ` (`'srv-static [options] [port]'`). */
  readonly usage: readonly string[];
  /** What the command does: a paragraph after the usage lines. */
  readonly summary: string;
  /** Positional arguments, for the help. */
  readonly arguments?: readonly ArgumentSpec[];
  /** The options; `--help`/`-h` and `--version`/`-v` are added by the kit. */
  readonly options: readonly OptionSpec[];
  /** Largest number of positional arguments (default: unlimited). */
  readonly maxPositionals?: number;
  /** Text after the options (examples, notes). */
  readonly footer?: string;
}

/** What {@link parseCommandLine} found. */
export interface ParsedCommandLine {
  /** `--help` or `--version` was given: print {@link ParsedCommandLine.output} on stdout and exit 0. */
  readonly answered: boolean;
  /** The help or version text when {@link ParsedCommandLine.answered}. */
  readonly output: string;
  readonly positionals: readonly string[];
  /** Options given, by long name: the parsed value (`parse`), the text, `true` for a flag, or a list (`multiple`). */
  readonly values: ReadonlyMap<string, unknown>;
  /** How each given option was written last (`-p` or `--port`), by long name. */
  readonly spelled: ReadonlyMap<string, string>;
  /** True when the option was given. */
  has(name: string): boolean;
  /** The option's value (after its `parse`), or undefined when not given. */
  get<T>(name: string): T | undefined;
  /** A boolean flag. */
  flag(name: string): boolean;
}

/** Throws a {@link UsageError}: the one way a parser rejects a value. */
export function usage(message: string): never {
  throw new UsageError(message);
}

const builtInOptions: readonly OptionSpec[] = [
  { name: 'version', short: 'v', description: 'print the version and exit' },
  { name: 'help', short: 'h', description: 'show this help and exit' },
];

/** A port number `0`–`65535` (`0` picks a free one); throws {@link UsageError} otherwise. */
export function parsePort(text: string, flag = 'port'): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    usage(`${flag} must be a number from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A whole number of at least 1; throws {@link UsageError} otherwise. */
export function parsePositiveInteger(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    usage(`${flag} wants a positive integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * A host to bind: an IP address or a host name (`[v6]` brackets allowed). A Unix socket path
 * (`unix:/x`) is refused with the same message and exit code by every command, which all serve over IP.
 */
export function parseBindHost(text: string, flag = '--bind'): string {
  if (text === '') usage(`${flag} needs a host`);
  if (text.startsWith('unix:') || text.startsWith('/')) {
    usage(`${flag} ${text}: this command serves over TCP/IP; give an IP address or a host name`);
  }
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!/^[0-9A-Za-z.:%_-]+$/.test(host)) {
    usage(`${flag} ${JSON.stringify(text)} is not an IP address or a host name`);
  }
  return host;
}

/** The help text of a command, built from its declaration. */
export function formatHelp(spec: CommandSpec): string {
  const [first = spec.name, ...rest] = spec.usage;
  const lines = [`Usage: ${first}`, ...rest.map((line) => `       ${line}`), '', spec.summary.trimEnd(), ''];
  const rows = (entries: ReadonlyArray<readonly [string, string]>) => {
    const width = Math.max(...entries.map(([left]) => left.length)) + 2;
    for (const [left, description] of entries) {
      const [head = '', ...more] = description.split('\n');
      lines.push(`  ${left.padEnd(width)}${head}`.trimEnd());
      for (const line of more) lines.push(`  ${' '.repeat(width)}${line}`);
    }
  };
  if (spec.arguments && spec.arguments.length > 0) {
    lines.push('Arguments:');
    rows(spec.arguments.map((argument) => [argument.name, argument.description] as const));
    lines.push('');
  }
  lines.push('Options:');
  rows(
    [...spec.options, ...builtInOptions]
      .filter((option) => !option.hidden)
      .map((option) => {
        const short = option.short ? `-${option.short}, ` : '    ';
        const value = option.value ? ` ${option.value}` : '';
        return [`${short}--${option.name}${value}`, option.description] as const;
      }),
  );
  if (spec.footer) lines.push('', spec.footer.trimEnd());
  return `${lines.join('\n')}\n`;
}

/**
 * Parses `argv` (without node and the script) against the declaration: unknown options, missing or
 * unexpected values, too many positionals and values an option's `parse` rejects throw {@link UsageError}
 * with a one-line message. `--help`/`-h` and `--version`/`-v` come back as `answered`.
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): ParsedCommandLine {
  const all = [...spec.options, ...builtInOptions];
  const byName = new Map(all.map((option) => [option.name, option]));
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const option of all) {
    config[option.name] = {
      type: option.value ? 'string' : 'boolean',
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  // Not strict: the tokens tell which option was unknown or lacked a value, so the message is one
  // line of our own instead of parseArgs' paragraph.
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, unknown>();
  const spelled = new Map<string, string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const option = byName.get(token.name);
    if (!option) usage(`unknown option ${token.rawName}`);
    if (option.value) {
      if (token.value === undefined) usage(`${token.rawName} needs a value (${option.value})`);
      const value = option.parse ? option.parse(token.value, token.rawName) : token.value;
      if (option.multiple)
        values.set(option.name, [...((values.get(option.name) as unknown[]) ?? []), value]);
      else values.set(option.name, value);
    } else {
      if (token.value !== undefined) usage(`${token.rawName} takes no value`);
      values.set(option.name, true);
    }
    spelled.set(option.name, token.rawName);
  }
  const answer = values.has('help')
    ? formatHelp(spec)
    : values.has('version')
      ? `${spec.name} ${spec.version}\n`
      : '';
  if (!answer && spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) {
    usage(`unexpected argument ${JSON.stringify(positionals[spec.maxPositionals])}`);
  }
  return {
    answered: answer !== '',
    output: answer,
    positionals,
    values,
    spelled,
    has: (name) => values.has(name),
    get: <T>(name: string) => values.get(name) as T | undefined,
    flag: (name) => values.get(name) === true,
  };
}

/** The `version` of the package.json nearest above `moduleUrl` (a bin's `import.meta.url`). */
export function readPackageVersion(moduleUrl: string): string {
  let directory = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        version?: string;
      };
      return manifest.version ?? '0.0.0';
    } catch {}
    const parent = dirname(directory);
    if (parent === directory) return '0.0.0';
    directory = parent;
  }
}
