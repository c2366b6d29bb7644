import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { openStore } from './_image.js';

interface TagArgs extends GlobalOptions {
  source: string;
  target: string;
}

/** `tsbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]` */
export const tagCommand: CommandModule<GlobalOptions, TagArgs> = {
  command: 'tag <source> <target>',
  describe: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'SOURCE_IMAGE[:TAG]' })
      .positional('target', { type: 'string', demandOption: true, describe: 'TARGET_IMAGE[:TAG]' }),
  handler: async (args) => {
    const store = await openStore(args);
    store.tag(args.source, args.target);
  },
};
