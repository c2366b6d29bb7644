/**
 * Go's `path.Clean` for slash-separated paths: the shortest lexically
 * equivalent path. Repeated slashes collapse, `.` elements go, `..` removes the
 * element before it (and disappears at the root of a rooted path), a trailing
 * slash goes, and an empty result is `.`.
 */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  let leadingDotDots = 0;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > leadingDotDots) out.pop();
      else if (!rooted) {
        out.push('..');
        leadingDotDots++;
      }
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * A context-relative form of a path as BuildKit resolves COPY sources: the
 * path is joined to `/` and cleaned, so `../x`, `/x` and `./x` all name `x`
 * in the context root; the root itself is `.`.
 */
export function contextRelative(path: string): string {
  const cleaned = cleanPath(`/${path}`);
  return cleaned === '/' ? '.' : cleaned.slice(1);
}

const GO_SPACE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

/** Go's `strings.TrimSpace` (unicode.IsSpace: unlike String.prototype.trim, U+0085 is a space and U+FEFF is not). */
export function trimSpace(s: string): string {
  return s.replace(GO_TRIM, '');
}
