import type { Options } from 'tsup';
import { config } from '../../tsup.base.ts';

// The bin must load the library from dist/index.js, not a bundled copy: workers load the handler class
// the entry exports, and two copies would be two different classes.
const keepIndexExternal: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'keep-index-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/index\.js$/ }, (args) =>
      args.importer.endsWith('cli.ts') ? { path: './index.js', external: true } : undefined,
    );
  },
};

export default config({ entry: ['src/index.ts', 'src/cli.ts'], esbuildPlugins: [keepIndexExternal] });
