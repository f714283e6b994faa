import type { Options } from 'tsup';
import { config } from '../../tsup.base.ts';

// The CLI must load the library from dist/index.js, not a bundled copy: threading workers import the
// handler classes from their `moduleUrl`, which has to be the entry that exports them.
const keepIndexExternal: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'keep-index-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/index\.js$/ }, (args) =>
      args.importer.endsWith('cli.ts') ? { path: './index.js', external: true } : undefined,
    );
  },
};

export default config({ entry: ['src/index.ts', 'src/cli.ts'], esbuildPlugins: [keepIndexExternal] });
