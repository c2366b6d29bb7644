import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openSnapshots, withOutput } from './_image.js';

interface ExportArgs extends GlobalOptions {
  image: string;
  output?: string;
}

/** `tsbuild export IMAGE [-o FILE]`: the image's flattened root filesystem as one tar. */
export const exportCommand: CommandModule<GlobalOptions, ExportArgs> = {
  command: 'export <image>',
  describe: "Export an image's flattened filesystem as a tar archive",
  builder: (y: Argv<GlobalOptions>) =>
    y.positional('image', { type: 'string', demandOption: true }).option('output', {
      alias: 'o',
      type: 'string',
      requiresArg: true,
      describe: 'Write to a file, instead of STDOUT',
    }),
  handler: async (args) => {
    const lib = await imageLib();
    const { store, sn } = await openSnapshots(args);
    const { image } = store.resolve(args.image);
    await withOutput(args.output, 'a filesystem archive', (out) => lib.exportRootfs(store, image, sn, out));
  },
};
