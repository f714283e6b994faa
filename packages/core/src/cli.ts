/**
 * `@srv/core/cli`: the one kit every srv command is built from (`srv-static`, `srv-cgi`, `srv-time`,
 * `srv-demo`), so they agree on what a user sees: the banner, the help, one-line usage errors, exit
 * codes, `--version`, and what SIGINT/SIGTERM do.
 *
 * A command declares its options once ({@link CommandSpec}: flag, placeholder, help line, validation);
 * {@link parseCommandLine} parses, validates and answers `--help`/`--version` from that declaration.
 * Options several commands share live in {@link commonOptions}, so a new shared flag is added in one place.
 */
export {
  type ArgumentSpec,
  type CommandSpec,
  exitCodes,
  formatHelp,
  isUsageError,
  type OptionSpec,
  type ParsedCommandLine,
  parseBindHost,
  parseCommandLine,
  parsePort,
  parsePositiveInteger,
  readPackageVersion,
  UsageError,
  usage,
  usageErrorCode,
} from './cli-command.js';
export { commonOptions, type DeployArgs, deployOptions, readDeployOptions } from './cli-deploy.js';
export {
  type BannerAddress,
  type CommandOutput,
  formatBanner,
  formatEndpoint,
  formatReachLine,
  lanAddress,
  loadTlsFiles,
} from './cli-output.js';
export {
  describeError,
  describeStartError,
  runCommand,
  type StopWatch,
  type WatchStopOptions,
  watchStopSignals,
} from './cli-run.js';
