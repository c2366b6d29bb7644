/**
 * Platforms (`linux/arm64/v8`) and the choice of a manifest from an index or
 * manifest list, as containerd's default matcher does: the same OS and
 * architecture, the variant normalised, attestation manifests skipped.
 */
import { ImageError } from './errors.js';
import { Annotation, type Descriptor, type ImageIndex, type Platform } from './oci.js';

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

/** The platform of this machine, in OCI words. */
export function hostPlatform(): Platform {
  const arch = NODE_ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: process.platform === 'win32' ? 'windows' : process.platform, architecture: arch };
  if (arch === 'arm64') p.variant = 'v8';
  if (arch === 'arm') p.variant = `v${(process.config.variables as { arm_version?: string }).arm_version ?? '7'}`;
  return p;
}

/** Normalises names and default variants: `aarch64` → `arm64`, arm64's variant `v8`, `amd64/v1` → no variant. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  let variant = p.variant?.toLowerCase();
  if (architecture === 'arm64') {
    if (variant === undefined || variant === '' || variant === '8') variant = 'v8';
  } else if (architecture === 'arm') {
    if (variant === undefined || variant === '' || variant === '7') variant = 'v7';
    else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
  } else if (architecture === 'amd64') {
    if (variant === 'v1' || variant === '') variant = undefined;
  } else if (variant === '') {
    variant = undefined;
  }
  const out: Platform = { ...p, os, architecture };
  if (variant === undefined) delete out.variant;
  else out.variant = variant;
  return out;
}

/** Parses `os/arch[/variant]`, `arch` alone meaning `linux/arch`. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  if (parts.some((x) => x.length === 0) || parts.length > 3) {
    throw new ImageError(
      'TSB_IMAGE_INVALID_PLATFORM',
      `invalid platform ${JSON.stringify(spec)}: expected os/arch[/variant]`,
    );
  }
  const [a, b, c] = parts as [string, string?, string?];
  const p: Platform = b === undefined ? { os: 'linux', architecture: a } : { os: a, architecture: b };
  if (c !== undefined) p.variant = c;
  return normalizePlatform(p);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/');
}

/** Whether an index entry is an attestation or other non-image entry (BuildKit's `unknown/unknown`). */
export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.[Annotation.dockerReferenceType] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown')
  );
}

const ARM_VARIANTS = ['v8', 'v7', 'v6', 'v5'];
const AMD64_VARIANTS = ['v4', 'v3', 'v2', 'v1'];

/**
 * How well `have` serves `want`: 0 = no, higher = better. An exact match beats
 * an older compatible variant (arm v7 runs v6 and v5; amd64 v3 runs v2 and v1;
 * arm64 runs arm v8 and v7 when nothing else is there).
 */
export function platformScore(want: Platform, have: Platform): number {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os) return 0;
  if (w.architecture === h.architecture) {
    if ((w.variant ?? '') === (h.variant ?? '')) return 100;
    const order = w.architecture === 'arm' ? ARM_VARIANTS : w.architecture === 'amd64' ? AMD64_VARIANTS : undefined;
    if (order === undefined) return w.variant === undefined || h.variant === undefined ? 90 : 0;
    const wi = order.indexOf(w.variant ?? (w.architecture === 'amd64' ? 'v1' : ''));
    const hi = order.indexOf(h.variant ?? (h.architecture === 'amd64' ? 'v1' : ''));
    if (wi < 0 || hi < 0 || hi < wi) return 0;
    return 90 - (hi - wi);
  }
  if (w.architecture === 'arm64' && h.architecture === 'arm') {
    const hi = ARM_VARIANTS.indexOf(h.variant ?? 'v7');
    return hi >= 0 && hi <= 1 ? 50 - hi : 0;
  }
  return 0;
}

/**
 * Picks the manifest for `want` from an index (attestations skipped). An entry
 * without a platform matches only when it is the only image entry. Throws
 * `TSB_IMAGE_NO_MATCHING_PLATFORM` naming what is available.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const images = index.manifests.filter((d) => !isAttestation(d));
  let best: Descriptor | undefined;
  let bestScore = 0;
  for (const d of images) {
    const score = d.platform ? platformScore(want, d.platform) : images.length === 1 ? 1 : 0;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  if (best) return best;
  const available = images.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
  throw new ImageError(
    'TSB_IMAGE_NO_MATCHING_PLATFORM',
    `no manifest for ${formatPlatform(want)} in the index (available: ${available || 'none'})`,
  );
}
