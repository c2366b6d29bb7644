import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore } from './_image.js';

interface ImagesArgs extends GlobalOptions {
  repository?: string;
  quiet?: boolean;
  trunc?: boolean;
  digests?: boolean;
  all?: boolean;
  filter?: string[];
  format?: string;
}

/** `docker images`' column names for `--format 'table …'` headers. */
const HEADERS: Record<string, string> = {
  Containers: 'CONTAINERS',
  CreatedAt: 'CREATED AT',
  CreatedSince: 'CREATED',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  SharedSize: 'SHARED SIZE',
  Size: 'SIZE',
  Tag: 'TAG',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

/** `tsbuild images [REPOSITORY[:TAG]]`: REPOSITORY TAG IMAGE ID CREATED SIZE, as `docker images` prints them. */
export const imagesCommand: CommandModule<GlobalOptions, ImagesArgs> = {
  command: 'images [repository]',
  describe: 'List images',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('repository', { type: 'string', describe: 'Only this repository (and tag)' })
      .option('all', { alias: 'a', type: 'boolean', describe: 'Show all images (every image is shown: no-op)' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only show image IDs' })
      .option('trunc', { type: 'boolean', default: true, describe: "Truncate output (--no-trunc: don't)" })
      .option('digests', { type: 'boolean', describe: 'Show digests' })
      .option('filter', {
        alias: 'f',
        type: 'string',
        requiresArg: true,
        array: true,
        describe: 'Filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE',
      })
      .option('format', {
        type: 'string',
        requiresArg: true,
        describe: "Format output: 'table', 'json', 'table TEMPLATE' or a Go template ({{.Repository}}:{{.Tag}})",
      }),
  handler: async (args) => {
    const lib = await imageLib();
    const { parseImageFilters, matchesFilters, referenceMatches } = await import('./_image-filters.js');
    const store = await openStore(args);
    const filters = parseImageFilters(args.filter ?? []);
    let filter: { repo: string; tag?: string } | undefined;
    if (args.repository && /[*?[]/.test(args.repository)) {
      // A pattern, as Docker reads REPOSITORY: the same as --filter reference=PATTERN.
      filters.reference.push(args.repository);
    } else if (args.repository) {
      const ref = lib.parseReference(args.repository);
      filter = { repo: lib.repositoryName(ref), tag: ref.tag };
    }
    const now = Date.now();
    const rows: {
      repository: string;
      tag: string;
      digest: string;
      id: string;
      created?: string;
      size: number;
    }[] = [];
    const images = store.list().sort((a, b) => Date.parse(b.created ?? '0') - Date.parse(a.created ?? '0'));
    for (const image of images) {
      if (!(await matchesFilters(store, image, filters))) continue;
      const size = args.quiet ? 0 : await store.unpackedSize(image);
      const named = image.names
        .map((n) => lib.parseReference(n))
        .filter((ref) => filters.reference.length === 0 || referenceMatches(filters.reference, ref));
      if (filters.reference.length > 0 && named.length === 0) continue;
      const refs = named.length > 0 ? named : [undefined];
      for (const ref of refs) {
        if (filter && (!ref || lib.repositoryName(ref) !== filter.repo || (filter.tag && ref.tag !== filter.tag))) {
          continue;
        }
        const repoDigest = ref ? image.repoDigests.find((d) => d.startsWith(`${lib.repositoryName(ref)}@`)) : undefined;
        rows.push({
          repository: ref ? lib.familiarRepository(ref) : '<none>',
          tag: ref?.tag ?? '<none>',
          digest: repoDigest ? repoDigest.slice(repoDigest.indexOf('@') + 1) : '<none>',
          id: image.id,
          created: image.created,
          size,
        });
      }
    }
    const id = (full: string) => (args.trunc === false ? full : lib.shortId(full));
    if (args.quiet) {
      const seen = new Set<string>();
      for (const r of rows) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        process.stdout.write(`${id(r.id)}\n`);
      }
      return;
    }
    if (args.format !== undefined) {
      const { formatRows } = await import('../render/format.js');
      const contexts = rows.map((r) => {
        const size = lib.humanSize(r.size);
        return {
          Containers: 'N/A',
          CreatedAt: lib.goTimeString(r.created),
          CreatedSince: lib.createdSince(r.created, now),
          Digest: r.digest,
          ID: id(r.id),
          Repository: r.repository,
          SharedSize: 'N/A',
          Size: size,
          Tag: r.tag,
          UniqueSize: 'N/A',
          VirtualSize: size,
        };
      });
      const out = formatRows(args.format, contexts, HEADERS);
      if (out !== undefined) {
        process.stdout.write(out);
        return;
      }
    }
    const header = ['REPOSITORY', 'TAG', ...(args.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
    const table = [header];
    for (const r of rows) {
      table.push([
        r.repository,
        r.tag,
        ...(args.digests ? [r.digest] : []),
        id(r.id),
        lib.createdSince(r.created, now),
        lib.humanSize(r.size),
      ]);
    }
    process.stdout.write(lib.formatTable(table));
  },
};
