import { cliConfig } from '../../tsup.base.ts';

// The launcher is its own entry: the server forks it by path (see src/launcher.ts).
export default cliConfig({ entry: ['src/index.ts', 'src/cli.ts', 'src/launcher-worker.ts'] });
