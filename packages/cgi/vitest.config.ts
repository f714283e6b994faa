import { defineConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const base = { ...shared.test, globalSetup: ['./test/global-setup.ts'] };

// The suites that run scripts run twice: with the launcher process (the default) and with scripts
// spawned by the server itself (`launcher: 'direct'`), so both paths keep every guarantee.
export default defineConfig({
  test: {
    projects: [
      { test: { ...base, name: 'launcher' } },
      {
        test: {
          ...base,
          name: 'direct',
          include: ['test/cgi.test.ts', 'test/resolution.test.ts', 'test/access.test.ts'],
          env: { ...base.env, SRV_CGI_LAUNCHER: 'direct' },
        },
      },
    ],
  },
});
