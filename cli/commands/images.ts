import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore } from './_image.js';

interface ImagesArgs extends GlobalOptions {
  repository?: string;
  quiet?: boolean;
  trunc?: boolean;
  digests?: boolean;
  format?: string;
}

/** `tsbuild images [REPOSITORY[:TAG]]`: REPOSITORY TAG IMAGE ID CREATED SIZE, as `docker images` prints them. */
export const imagesCommand: CommandModule<GlobalOptions, ImagesArgs> = {
  command: 'images [repository]',
  describe: 'List images',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('repository', { type: 'string', describe: 'Only this repository (and tag)' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only show image IDs' })
      .option('trunc', { type: 'boolean', default: true, describe: "Truncate output (--no-trunc: don't)" })
      .option('digests', { type: 'boolean', describe: 'Show digests' })
      .option('format', { type: 'string', choices: ['table', 'json'], describe: 'Output format' }),
  handler: async (args) => {
    const lib = await imageLib();
    const store = await openStore(args);
    let filter: { repo: string; tag?: string } | undefined;
    if (args.repository) {
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
      const named = image.names.map((n) => lib.parseReference(n));
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
          size: image.size,
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
    if (args.format === 'json') {
      for (const r of rows) {
        const size = lib.humanSize(r.size);
        process.stdout.write(
          `${JSON.stringify({
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
          })}\n`,
        );
      }
      return;
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
