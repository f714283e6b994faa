import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isRoot, rawRequest, startCgi } from './helpers.js';

/**
 * A document root under a directory only its owner may enter: what a checkout in root's home is to
 * `nobody`. The scripts themselves are open to everyone.
 */
async function privateRoot(): Promise<{ parent: string; root: string }> {
  const parent = await mkdtemp(path.join(tmpdir(), 'srv-cgi-private-'));
  onTestFinished(() => rm(parent, { recursive: true, force: true }));
  await chmod(parent, 0o700);
  const root = path.join(parent, 'site');
  await mkdir(path.join(root, 'cgi-bin'), { recursive: true });
  await chmod(root, 0o755);
  await chmod(path.join(root, 'cgi-bin'), 0o755);
  const file = path.join(root, 'cgi-bin', 'hello.sh');
  await writeFile(file, "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
  await chmod(file, 0o755);
  return { parent, root };
}

describe('a script the user it runs as cannot reach', () => {
  // Only root switches users (to scriptUser, `nobody`); any other server runs scripts as itself, and a
  // script it cannot reach is refused earlier, when it is resolved.
  it.skipIf(!isRoot)(
    '403: the log names the directory and the fix, the page says why (root only)',
    async () => {
      const { parent, root } = await privateRoot();
      const t = await startCgi({ directory: root });
      const response = await rawRequest(t, 'GET /cgi-bin/hello.sh HTTP/1.1');
      expect(response.status).toBe(403);
      expect(response.body).toContain('The user CGI scripts run as cannot reach this script');
      expect(response.body).toContain('searchable, for that user (the server log names the path).</p>');
      // No server path on the page: it goes to whoever asked.
      expect(response.body).not.toContain(parent);
      const line = await t.waitForLine(/not allowed to run/);
      expect(line).toContain(`scripts run as nobody (uid `);
      expect(line).toContain(`cannot enter ${parent} (mode 0700, owner 0:0)`);
      expect(line).toContain('chmod o+x on each directory above the script');
      expect(line).toContain('scriptUser');
    },
  );
});
