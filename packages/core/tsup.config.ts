import { config } from '../../tsup.base.ts';

// Each entry is bundled on its own (no shared chunks: classes record `import.meta.url` as the module
// workers load them from, which must stay `dist/index.js`). What `internal` and `cli` duplicate is
// stateless or recognised by a `Symbol.for` brand, not by identity.
export default config({ entry: ['src/index.ts', 'src/testing.ts', 'src/cli.ts', 'src/internal.ts'] });
