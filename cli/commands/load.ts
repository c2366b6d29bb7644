import { createReadStream, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore } from './_image.js';

interface LoadArgs extends GlobalOptions {
  input?: string;
  quiet?: boolean;
  platform?: string;
}

/** `tsbuild load [-i FILE]`: loads a docker-archive or OCI layout tar (plain or gzipped) from a file or stdin. */
export const loadCommand: CommandModule<GlobalOptions, LoadArgs> = {
  command: 'load',
  describe: 'Load images from a tar archive or STDIN',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .option('input', {
        alias: 'i',
        type: 'string',
        requiresArg: true,
        describe: 'Read from tar archive file, instead of STDIN',
      })
      .option('quiet', {
        alias: 'q',
        type: 'boolean',
        describe: 'Suppress the load progress (the loaded names are still printed)',
      })
      .option('platform', {
        type: 'string',
        describe: 'Platform to load from a multi-platform index (os/arch[/variant])',
      }),
  handler: async (args) => {
    const lib = await imageLib();
    const { UsageError } = await import('../../errors.js');
    const fromStdin = args.input === undefined || args.input === '-';
    if (fromStdin && process.stdin.isTTY) {
      throw new UsageError('requested load from stdin, but stdin is a terminal: use -i FILE or redirect', {
        flag: '--input',
      });
    }
    if (!fromStdin) {
      try {
        if (statSync(args.input as string).isDirectory()) throw new Error('is a directory');
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
        throw new UsageError(`cannot read ${args.input}: ${why}`, { flag: '--input', cause: err });
      }
    }
    const store = await openStore(args);
    const input = fromStdin ? process.stdin : createReadStream(args.input as string, { highWaterMark: 1024 * 1024 });
    const platform = args.platform ? lib.parsePlatform(args.platform) : undefined;
    const loaded = await lib.loadArchive(store, input, {
      what: fromStdin ? 'stdin' : (args.input as string),
      platform,
    });
    // -q, as Docker's, drops progress (tsbuild shows none), not the names of what was loaded.
    for (const l of loaded) {
      for (const m of l.moved) {
        process.stdout.write(
          `The image ${lib.familiarString(m.name)} already exists, renaming the old one with ID ${m.from} to empty string\n`,
        );
      }
      if (l.names.length === 0) process.stdout.write(`Loaded image ID: ${l.image.id}\n`);
      for (const n of l.names) process.stdout.write(`Loaded image: ${lib.familiarString(n)}\n`);
    }
  },
};
