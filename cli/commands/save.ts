import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore, withOutput } from './_image.js';

interface SaveArgs extends GlobalOptions {
  images: string[];
  output?: string;
  format?: 'docker' | 'oci';
}

/** `tsbuild save [-o FILE] [--format docker|oci] IMAGE...`: a tar archive, to a file or stdout. */
export const saveCommand: CommandModule<GlobalOptions, SaveArgs> = {
  command: 'save <images..>',
  describe: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'IMAGE...' })
      .option('output', {
        alias: 'o',
        type: 'string',
        requiresArg: true,
        describe: 'Write to a file, instead of STDOUT',
      })
      .option('format', {
        type: 'string',
        choices: ['docker', 'oci'] as const,
        default: 'docker' as const,
        describe: 'docker: docker-archive with the OCI layout inside (Docker 25+); oci: OCI layout only',
      }),
  handler: async (args) => {
    const { saveArchive } = await imageLib();
    const store = await openStore(args);
    // Resolve first, so that a bad name fails before any output file exists.
    for (const ref of args.images) store.resolve(ref);
    await withOutput(args.output, 'an image archive', (out) =>
      saveArchive(store, args.images, out, { format: args.format }),
    );
  },
};
