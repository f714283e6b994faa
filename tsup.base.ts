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
};

export function config(overrides: Options = {}) {
  return defineConfig({ ...base, ...overrides });
}

export default config();
