import { config } from '../../tsup.base.ts';

// The worker entries are separate files: threads and child processes start from them.
export default config({ entry: ['src/index.ts', 'src/thread-worker.ts', 'src/child-worker.ts'] });
