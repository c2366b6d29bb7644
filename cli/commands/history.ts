import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore } from './_image.js';

interface HistoryArgs extends GlobalOptions {
  image: string;
  trunc?: boolean;
  quiet?: boolean;
  human?: boolean;
  format?: string;
}

/** `docker history`'s column names for `--format 'table …'` headers. */
const HEADERS: Record<string, string> = {
  Comment: 'COMMENT',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  CreatedSince: 'CREATED',
  ID: 'IMAGE',
  Size: 'SIZE',
};

/** `tsbuild history IMAGE`: IMAGE CREATED CREATED BY SIZE COMMENT, newest first, as `docker history` prints it. */
export const historyCommand: CommandModule<GlobalOptions, HistoryArgs> = {
  command: 'history <image>',
  describe: 'Show the history of an image',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('image', { type: 'string', demandOption: true })
      .option('trunc', { type: 'boolean', default: true, describe: "Truncate output (--no-trunc: don't)" })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only show image IDs' })
      .option('human', {
        alias: 'H',
        type: 'boolean',
        default: true,
        describe: 'Print sizes and dates in human readable format',
      })
      .option('format', {
        type: 'string',
        requiresArg: true,
        describe: "Format output: 'table', 'json', 'table TEMPLATE' or a Go template ({{.ID}} {{.CreatedBy}})",
      }),
  handler: async (args) => {
    const lib = await imageLib();
    const store = await openStore(args);
    const { image } = store.resolve(args.image);
    const { config } = await store.config(image);
    const layers = store.layers(image);
    const history: import('../../image/index.js').HistoryEntry[] =
      config.history && config.history.length > 0
        ? config.history
        : layers.map(() => ({ created: config.created, created_by: '', comment: '' }));
    const sizes = await Promise.all(layers.map((l) => store.layerUnpackedSize(l)));
    let layer = 0;
    const rows = history.map((h) => {
      const empty = h.empty_layer === true || layer >= layers.length;
      const size = empty ? 0 : (sizes[layer++] ?? 0);
      return { created: h.created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '' };
    });
    rows.reverse();
    const id = (i: number) => (i === 0 ? (args.trunc === false ? image.id : lib.shortId(image.id)) : '<missing>');
    if (args.quiet) {
      rows.forEach((_, i) => {
        process.stdout.write(`${id(i)}\n`);
      });
      return;
    }
    const now = Date.now();
    const trunc = (s: string, n: number) => (args.trunc === false || s.length <= n ? s : `${s.slice(0, n - 1)}…`);
    const created = (c: string | undefined) => (args.human ? lib.createdSince(c, now) : rfc3339(c));
    const size = (n: number) => (args.human ? lib.humanSize(n) : String(n));
    if (args.format !== undefined) {
      const { formatRows } = await import('../render/format.js');
      const contexts = rows.map((r, i) => ({
        Comment: r.comment,
        CreatedAt: rfc3339(r.created),
        CreatedBy: trunc(r.createdBy, 45),
        CreatedSince: args.human ? lib.createdSince(r.created, now) : rfc3339(r.created),
        ID: id(i),
        Size: size(r.size),
      }));
      const out = formatRows(args.format, contexts, HEADERS);
      if (out !== undefined) {
        process.stdout.write(out);
        return;
      }
    }
    const table = [['IMAGE', args.human ? 'CREATED' : 'CREATED AT', 'CREATED BY', 'SIZE', 'COMMENT']];
    rows.forEach((r, i) => {
      table.push([id(i), created(r.created), trunc(r.createdBy, 45), size(r.size), r.comment]);
    });
    process.stdout.write(lib.formatTable(table));
  },
};

/** Go's `time.RFC3339` in UTC, as `docker history` prints CreatedAt: `2024-01-02T03:04:05Z`. */
function rfc3339(created: string | undefined): string {
  const t = Date.parse(created ?? '');
  return Number.isNaN(t) ? '' : `${new Date(t).toISOString().slice(0, 19)}Z`;
}
