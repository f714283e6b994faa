import { config } from '../../tsup.base.ts';

export default config({ entry: ['src/index.ts', 'src/testing.ts', 'src/internal.ts'] });
