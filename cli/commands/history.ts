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
      .option('format', { type: 'string', choices: ['table', 'json'], describe: 'Output format' }),
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
    let layer = 0;
    const rows = history.map((h) => {
      const empty = h.empty_layer === true || layer >= layers.length;
      const size = empty ? 0 : (layers[layer++]?.size ?? 0);
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
    const created = (c: string | undefined) => (args.human ? lib.createdSince(c, now) : (c ?? ''));
    const size = (n: number) => (args.human ? lib.humanSize(n) : String(n));
    if (args.format === 'json') {
      rows.forEach((r, i) => {
        process.stdout.write(
          `${JSON.stringify({
            Comment: r.comment,
            CreatedAt: r.created ?? '',
            CreatedBy: trunc(r.createdBy, 45),
            CreatedSince: lib.createdSince(r.created, now),
            ID: id(i),
            Size: size(r.size),
          })}\n`,
        );
      });
      return;
    }
    const table = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']];
    rows.forEach((r, i) => {
      table.push([id(i), created(r.created), trunc(r.createdBy, 45), size(r.size), r.comment]);
    });
    process.stdout.write(lib.formatTable(table));
  },
};
