import type { Platform } from './types.js';

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix']);
const COMPONENT = /^[A-Za-z0-9_-]+$/;

/** The host's platform, as BuildKit names it. */
export function hostPlatform(): Platform {
  const arch = process.arch;
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    default:
      return normalizePlatform({ os: 'linux', architecture: arch });
  }
}

/** containerd's normalisation: `x86_64` → `amd64`, `aarch64` → `arm64` (no v8), `arm` → `arm/v7`. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case 'i386':
      architecture = '386';
      variant = undefined;
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = undefined;
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8') variant = undefined;
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === undefined || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * Parses a platform specifier (`linux/arm64`, `linux/arm/v7`, `arm64`, `linux`) as containerd does;
 * a missing part comes from `defaults`. Throws an `Error` naming the fault.
 */
export function parsePlatform(spec: string, defaults: Platform): Platform {
  const parts = spec.split('/');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new Error(
        `"${part}" is an invalid component of "${spec}": platform specifier component must match "^[A-Za-z0-9_-]+$"`,
      );
    }
  }
  if (parts.length > 3) throw new Error(`"${spec}": unknown platform format`);
  const [a, b, c] = parts as [string, string | undefined, string | undefined];
  if (b === undefined) {
    const lower = a.toLowerCase();
    if (KNOWN_OS.has(lower))
      return normalizePlatform({ os: lower, architecture: defaults.architecture, variant: defaults.variant });
    return normalizePlatform({ os: defaults.os, architecture: lower });
  }
  const os = a.toLowerCase();
  if (!KNOWN_OS.has(os)) throw new Error(`"${spec}": unknown operating system or architecture: invalid argument`);
  return normalizePlatform({ os, architecture: b, variant: c });
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The predefined platform args (`TARGETPLATFORM`, `BUILDARCH`, …) as BuildKit sets them in the global scope. */
export function platformArgs(target: Platform, build: Platform): [string, string][] {
  return [
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
  ];
}
