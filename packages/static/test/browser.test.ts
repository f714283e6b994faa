import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createFixture, startCli } from './helpers.js';

const executablePath = '/usr/bin/chromium';
const hasChromium = existsSync(executablePath);
const artifacts = new URL('../test-artifacts/', import.meta.url);

describe('a real browser', () => {
  // CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
  // Elsewhere the test is skipped, saying why.
  it.skipIf(!hasChromium && !process.env.CI)(
    `opens the listing, clicks into a directory and a file (needs ${executablePath}; apt-get install chromium)`,
    async () => {
      if (!hasChromium) throw new Error(`${executablePath} is missing: .ci/run installs Debian's chromium`);
      const fixture = await createFixture();
      const cli = await startCli(['0', '-b', '127.0.0.1', '-d', fixture.root, '--quiet']);
      const profile = await mkdtemp(join(tmpdir(), 'srv-static-chromium-'));
      onTestFinished(() => rm(profile, { recursive: true, force: true }));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
      onTestFinished(() => context.close());
      const page = context.pages()[0] ?? (await context.newPage());
      const origin = `http://127.0.0.1:${cli.port}`;

      const listing = await page.goto(`${origin}/`);
      expect(listing?.status()).toBe(200);
      expect(await page.title()).toBe('Directory listing for /');
      await expect.poll(() => page.locator('a', { hasText: 'a b&<c>.txt' }).count()).toBe(1);
      expect(await page.locator('a', { hasText: '.env' }).count()).toBe(0);

      await page.click('a[href="./sub/"]');
      await page.waitForURL(`${origin}/sub/`);
      expect(await page.locator('h1').textContent()).toBe('Directory listing for /sub/');

      await page.click('a[href="./f.txt"]');
      await page.waitForURL(`${origin}/sub/f.txt`);
      expect((await page.locator('body').textContent())?.trim()).toBe('in sub');

      await page.goto(`${origin}/`);
      await mkdir(artifacts, { recursive: true });
      const screenshot = join(artifacts.pathname, 'listing.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot)).toBe(true);
    },
  );
});
