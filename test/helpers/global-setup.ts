import { existsSync } from 'node:fs';
import { busyboxFixture, requireRoot } from './prereqs.js';

/** Integration tests need root, the built CLI and the busybox fixture; fail early and say how to get them. */
export default function setup(): void {
  requireRoot();
  if (!existsSync(new URL('../../dist/bin/main.cjs', import.meta.url))) {
    throw new Error('dist/ is missing: run npm run build (npm test does it first)');
  }
  busyboxFixture();
}
