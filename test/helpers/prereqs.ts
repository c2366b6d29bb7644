import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Prerequisite checks for integration tests. A missing prerequisite is a
 * failure with a message that says how to install it, never a silent skip.
 */
export class MissingPrerequisite extends Error {}

function fail(what: string, fix: string): never {
  throw new MissingPrerequisite(`${what}; ${fix} (or run: sudo bash scripts/setup.sh)`);
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) fail('integration tests must run as root', 'run the suite as root');
}

export function requireCommand(cmd: string, aptPackage: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  } catch {
    fail(`${cmd} is not installed`, `install it with: apt-get install -y ${aptPackage}`);
  }
}

export function requireDocker(): void {
  requireCommand('docker', 'docker.io');
  try {
    execFileSync('/usr/bin/docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    fail('dockerd is not running', 'start it with: dockerd &');
  }
}

export function requireRegistry(): string {
  const url = 'http://127.0.0.1:5000/v2/';
  try {
    execFileSync('curl', ['-fsS', url], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    fail(`no registry answers at ${url}`, 'start one with: docker-registry serve /etc/tsbuild/registry.yml');
  }
  return '127.0.0.1:5000';
}

export const FIXTURES = process.env.TSBUILD_FIXTURES ?? '/var/tmp/tsbuild-fixtures';

/** The busybox base fixture (fixtures/make-busybox.sh): `{ rootfs, tar }`. */
export function busyboxFixture(): { rootfs: string; tar: string } {
  const rootfs = `${FIXTURES}/busybox/rootfs`;
  const tar = `${FIXTURES}/busybox/rootfs.tar`;
  if (!existsSync(`${rootfs}/bin/busybox`) || !existsSync(tar)) {
    fail(`the busybox fixture is missing at ${FIXTURES}/busybox`, 'make it with: bash fixtures/make-busybox.sh');
  }
  return { rootfs, tar };
}
