import type { Options } from 'tsup';
import { config } from '../../tsup.base.ts';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * Each server module is built as its own file, and the CLI imports it from there instead of bundling
 * a copy: threads and child processes load a handler from the URL of the module that exports it
 * (`import.meta.url`), so that module must be a real file without the CLI's side effects.
 */
const serverModulesStayExternal: Plugin = {
  name: 'server-modules-stay-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/servers\/[\w-]+\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

export default config({
  entry: ['src/cli.ts', 'src/servers/*.ts'],
  dts: false,
  esbuildPlugins: [serverModulesStayExternal],
});
