/**
 * Docker image references (`busybox`, `ghcr.io/o/r:tag`, `r@sha256:…`) validated and normalised the way
 * `reference.ParseNormalizedNamed` + `TagNameOnly` do: `busybox` → `docker.io/library/busybox:latest`.
 */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:localhost|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}$/;

export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** Parses and validates a reference; throws an `Error` with Docker's wording when it is not one. */
export function parseImageRef(ref: string): ImageReference {
  if (ref === '') throw new Error('invalid reference format');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new Error('invalid reference format');
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw new Error('invalid reference format');
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first === 'localhost' || first.includes('.') || first.includes(':') || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw new Error('invalid reference format');
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (path === '') throw new Error('invalid reference format');
  if (path !== path.toLowerCase()) throw new Error('invalid reference format: repository name must be lowercase');
  for (const c of path.split('/')) if (!COMPONENT.test(c)) throw new Error('invalid reference format');
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (domain.length + path.length + 1 > 255) throw new Error('repository name must not be more than 255 characters');
  return { domain, path, tag, digest };
}

/** `busybox` → `docker.io/library/busybox:latest`; a digest reference keeps its digest (and tag, if any). */
export function normalizeImageRef(ref: string): string {
  const r = parseImageRef(ref);
  let out = `${r.domain}/${r.path}`;
  if (r.tag !== undefined) out += `:${r.tag}`;
  else if (r.digest === undefined) out += ':latest';
  if (r.digest !== undefined) out += `@${r.digest}`;
  return out;
}

export function isValidImageRef(ref: string): boolean {
  try {
    parseImageRef(ref);
    return true;
  } catch {
    return false;
  }
}
