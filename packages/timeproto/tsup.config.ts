import { cliConfig } from '../../tsup.base.ts';

export default cliConfig();
