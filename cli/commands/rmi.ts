import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openSnapshots } from './_image.js';

interface RmiArgs extends GlobalOptions {
  images: string[];
  force?: boolean;
}

/**
 * `tsbuild rmi [-f] IMAGE...`: untags, and deletes images left without a name.
 * Prints `Untagged:` and `Deleted:` lines as Docker does; a failing image is
 * reported and the others are still removed (exit 1 at the end).
 */
export const rmiCommand: CommandModule<GlobalOptions, RmiArgs> = {
  command: 'rmi <images..>',
  describe: 'Remove one or more images',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'IMAGE...' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Force removal of the image' }),
  handler: async (args) => {
    const lib = await imageLib();
    const { formatError } = await import('../render/error.js');
    const { store, sn } = await openSnapshots(args);
    let failed = false;
    let deleted = false;
    for (const ref of args.images) {
      try {
        const result = store.remove(ref, { force: args.force });
        for (const n of result.untagged) process.stdout.write(`Untagged: ${lib.familiarString(n)}\n`);
        for (const d of result.deleted) process.stdout.write(`Deleted: ${d}\n`);
        deleted ||= result.deleted.length > 0;
      } catch (err) {
        failed = true;
        process.stderr.write(`${formatError(err, { debug: args.debug })}\n`);
      }
    }
    if (deleted) await lib.collectGarbage(store, { snapshotter: sn });
    if (failed) process.exitCode = 1;
  },
};
