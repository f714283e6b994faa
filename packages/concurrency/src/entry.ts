import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * URL of a built worker entry. From the built package it sits beside this module; when this module
 * runs from source (a test runner transpiling TypeScript) the entry is taken from `dist`, because a
 * thread or child process cannot load TypeScript.
 */
export function workerEntry(name: 'thread-worker' | 'child-worker'): URL {
  const beside = new URL(`./${name}.js`, import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL(`../dist/${name}.js`, import.meta.url);
}
