import { describe, expect, it } from 'vitest';
import { JobCounter } from '../../src/shutdown.js';

describe('JobCounter', () => {
  it('is idle at once when no job runs', async () => {
    const jobs = new JobCounter();
    expect(jobs.size).toBe(0);
    await expect(jobs.idle()).resolves.toBeUndefined();
  });

  it('wakes every waiter when the last running job ends, not before', async () => {
    const jobs = new JobCounter();
    jobs.begin();
    jobs.begin();
    const woken: string[] = [];
    const first = jobs.idle().then(() => woken.push('first'));
    const second = jobs.idle().then(() => woken.push('second'));
    jobs.end();
    await Promise.resolve();
    await Promise.resolve();
    expect(woken).toEqual([]);
    expect(jobs.size).toBe(1);
    jobs.end();
    await Promise.all([first, second]);
    expect(woken).toEqual(['first', 'second']);
    expect(jobs.size).toBe(0);
  });

  it('counts jobs that start while others are being waited for', async () => {
    const jobs = new JobCounter();
    jobs.begin();
    let idle = false;
    const waiting = jobs.idle().then(() => {
      idle = true;
    });
    jobs.begin();
    jobs.end();
    await Promise.resolve();
    expect(idle).toBe(false);
    jobs.end();
    await waiting;
    expect(idle).toBe(true);
  });
});
