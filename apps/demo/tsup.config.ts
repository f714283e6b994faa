import { config } from '../../tsup.base.ts';

export default config({ entry: ['src/cli.ts'], dts: false });
