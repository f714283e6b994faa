import { defineConfig, type Options } from 'tsup';

/** The one build setup every package re-exports: ESM, types from source, Node 20 syntax. */
export const base: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
  // esbuild renames a class that refers to itself (`_SimpleHTTPRequestHandler`); its `name` is public
  // (logs, errors, `withOptions()` copies it), so names stay as written.
  keepNames: true,
};

export function config(overrides: Options = {}) {
  return defineConfig({ ...base, ...overrides });
}

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * For packages with a bin: builds `src/index.ts` and `src/cli.ts`, and makes the bin import the library
 * from `dist/index.js` instead of bundling a copy. Workers load handler classes from their `moduleUrl`,
 * which must be the entry that exports them, and two copies would be two different classes.
 */
export function cliConfig(overrides: Options = {}) {
  const keepIndexExternal: Plugin = {
    name: 'keep-index-external',
    setup(build) {
      build.onResolve({ filter: /^\.\/index\.js$/ }, (args) =>
        args.importer.endsWith('cli.ts') ? { path: './index.js', external: true } : undefined,
      );
    },
  };
  return config({ entry: ['src/index.ts', 'src/cli.ts'], esbuildPlugins: [keepIndexExternal], ...overrides });
}

export default config();
