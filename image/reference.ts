/**
 * Docker-style image references: `[domain[:port]/]path[:tag][@digest]`, with
 * Docker's normalisation (`busybox` → `docker.io/library/busybox:latest`) and
 * its familiar form for display (`docker.io/library/busybox:latest` → `busybox:latest`).
 */
import { isOciDigest } from './digest.js';
import { ImageError } from './errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_MAX = 255;

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PORT = /^[0-9]+$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** A parsed, normalised reference. `tag` defaults to `latest` only through `withDefaultTag`. */
export interface Reference {
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000`, … */
  domain: string;
  /** The repository path inside the domain: `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

/**
 * Docker's `invalid reference format` (with its `: repository name must be
 * lowercase` and `cannot specify 64-byte hexadecimal strings`), naming the input
 * and, where Docker says no more, what is wrong in parentheses.
 */
function invalid(input: string, why: string): never {
  const docker = why.startsWith('repository name must not be')
    ? why
    : `invalid reference format${DOCKER_WORDS.has(why) ? `: ${why}` : ` (${why})`}`;
  throw new ImageError('TSB_IMAGE_INVALID_REFERENCE', `${JSON.stringify(input)} is not a valid reference: ${docker}`);
}
const DOCKER_WORDS = new Set(['repository name must be lowercase', 'cannot specify 64-byte hexadecimal strings']);

function isDomain(s: string): boolean {
  let host = s;
  const colon = s.lastIndexOf(':');
  if (colon >= 0 && !s.endsWith(']')) {
    if (!PORT.test(s.slice(colon + 1))) return false;
    host = s.slice(0, colon);
  }
  if (IPV6.test(host)) return true;
  return host.split('.').every((l) => DOMAIN_LABEL.test(l));
}

/**
 * Parses a reference as Docker's `ParseNormalizedNamed` does: the first path
 * component is a domain when it has a `.` or a `:`, or is `localhost`; else the
 * domain is docker.io, and one-component names get `library/`.
 */
export function parseReference(input: string): Reference {
  if (input.length === 0) invalid(input, 'empty');
  if (HEX64.test(input)) invalid(input, 'cannot specify 64-byte hexadecimal strings');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isOciDigest(digest)) invalid(input, `invalid digest ${JSON.stringify(digest)}`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) invalid(input, `invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest.length === 0) invalid(input, 'missing repository name');
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      if (!isDomain(first)) invalid(input, `invalid domain ${JSON.stringify(first)}`);
      domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
      path = rest.slice(slash + 1);
    }
  }
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component)) {
      if (component.toLowerCase() !== component && COMPONENT.test(component.toLowerCase())) {
        invalid(input, 'repository name must be lowercase');
      }
      invalid(input, `invalid repository name component ${JSON.stringify(component)}`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  if (domain.length + 1 + path.length > NAME_MAX)
    invalid(input, `repository name must not be more than ${NAME_MAX} characters`);
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** True when the string parses as a reference. */
export function isReference(input: string): boolean {
  try {
    parseReference(input);
    return true;
  } catch {
    return false;
  }
}

/** Adds `:latest` when the reference has neither a tag nor a digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** The repository name: `docker.io/library/busybox`. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full string: `docker.io/library/busybox:latest`, `ghcr.io/a/b@sha256:…`. */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Parses and normalises: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeReference(input: string): string {
  return formatReference(withDefaultTag(parseReference(input)));
}

/** Docker's short form of a repository: `docker.io/library/busybox` → `busybox`, `docker.io/me/x` → `me/x`. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) < 0
    ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
    : ref.path;
}

/** Docker's short form of a whole reference: `busybox:latest`, `127.0.0.1:5000/x:1`. */
export function familiarString(input: string | Reference): string {
  const ref = typeof input === 'string' ? parseReference(input) : input;
  return `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
