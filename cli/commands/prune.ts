import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openSnapshots } from './_image.js';

interface PruneArgs extends GlobalOptions {
  all?: boolean;
  force?: boolean;
}

/** `tsbuild prune [-a]`: removes unreferenced blobs and snapshots; with --all, images without a name too. */
export const pruneCommand: CommandModule<GlobalOptions, PruneArgs> = {
  command: 'prune',
  describe: 'Remove unused data: unreferenced blobs and snapshots (and untagged images with --all)',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .option('all', { alias: 'a', type: 'boolean', describe: 'Also remove images without a name' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation (never prompts)' }),
  handler: async (args) => {
    const lib = await imageLib();
    const { store, sn } = await openSnapshots(args);
    const result = await lib.collectGarbage(store, { all: args.all, snapshotter: sn });
    if (result.images.length > 0) {
      process.stdout.write('Deleted Images:\n');
      for (const id of result.images) process.stdout.write(`deleted: ${id}\n`);
      process.stdout.write('\n');
    }
    process.stdout.write(
      `Deleted ${result.blobs} blob${result.blobs === 1 ? '' : 's'} and ${result.snapshots} snapshot${result.snapshots === 1 ? '' : 's'}\n`,
    );
    process.stdout.write(`Total reclaimed space: ${lib.humanSize(result.bytes)}\n`);
  },
};
