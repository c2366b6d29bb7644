import { statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore } from './_image.js';

interface ImportArgs extends GlobalOptions {
  source: string;
  reference?: string;
  message?: string;
  /** One string, or an array when given more than once (yargs' duplicate-arguments-array). */
  change?: string | string[];
  platform?: string;
}

/** `tsbuild import FILE|DIR|- [REPOSITORY[:TAG]]`: a root filesystem becomes a one-layer image; prints its ID. */
export const importCommand: CommandModule<GlobalOptions, ImportArgs> = {
  command: 'import <source> [reference]',
  describe: 'Import the contents from a tarball or a directory to create a filesystem image',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'A tar file, a directory, or - for STDIN' })
      .positional('reference', { type: 'string', describe: 'REPOSITORY[:TAG]' })
      .option('change', {
        alias: 'c',
        type: 'string',
        requiresArg: true,
        describe: 'Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, …)',
      })
      .option('message', { alias: 'm', type: 'string', describe: 'Set commit message for imported image' })
      .option('platform', { type: 'string', describe: 'Set platform (os/arch[/variant])' }),
  handler: async (args) => {
    const lib = await imageLib();
    const { UsageError } = await import('../../errors.js');
    if (args.reference) lib.parseReference(args.reference);
    const changes = args.change === undefined ? [] : [args.change].flat();
    const config = changes.length > 0 ? (await import('./_import-changes.js')).applyChanges(changes) : undefined;
    let source: import('../../image/index.js').ImportSource;
    // yargs gives a lone `-` as an empty string.
    if (args.source === '-' || args.source === '') {
      if (process.stdin.isTTY)
        throw new UsageError('import from stdin, but stdin is a terminal: redirect a tar into it');
      source = { kind: 'stream', stream: process.stdin, what: '-' };
    } else {
      let isDir: boolean;
      try {
        isDir = statSync(args.source).isDirectory();
      } catch (err) {
        throw new UsageError(`cannot read ${args.source}: no such file or directory`, { cause: err });
      }
      source = isDir ? { kind: 'directory', path: args.source } : { kind: 'file', path: args.source };
    }
    const store = await openStore(args);
    const image = await lib.importRootfs(store, source, {
      reference: args.reference,
      message: args.message,
      config,
      platform: args.platform ? lib.parsePlatform(args.platform) : undefined,
    });
    process.stdout.write(`${image.id}\n`);
  },
};
