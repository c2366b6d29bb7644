import type { CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import type { OptionSpecs } from '../option-specs.js';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types
export type AnyCommand = CommandModule<GlobalOptions, any>;

/**
 * Every CLI command: its name, a one-line description for `tsbuild --help`, and
 * a loader. Only the command being run is loaded, so that each command pays for
 * its own imports and no other's. One module per command in this folder.
 */
export interface CommandEntry {
  name: string;
  describe: string;
  load: () => Promise<LoadedCommand>;
}

export interface LoadedCommand {
  command: AnyCommand;
  /** The command's options when declared as specs: a plain command line then skips yargs (see option-specs.ts). */
  options?: OptionSpecs;
  /** Positional names in order; the last may be variadic (`name..`). */
  positionals?: string[];
  /** The handler reads its own words from `args._` (Docker's `run` stops at IMAGE): it never needs yargs. */
  raw?: boolean;
}

const plain = (command: AnyCommand): LoadedCommand => ({ command });

export const commands: CommandEntry[] = [
  {
    name: 'build',
    describe: 'Build an image from a Dockerfile (the default command: tsbuild -t NAME CONTEXT)',
    load: async () => ({ command: (await import('./build.js')).buildCommand, raw: true }),
  },
  {
    name: 'parse',
    describe: 'Parse a Dockerfile and print its instructions',
    load: async () => {
      const m = await import('./parse.js');
      return { command: m.parseCommand, options: m.PARSE_OPTIONS };
    },
  },
  {
    name: 'lint',
    describe: "Run BuildKit's build checks on a Dockerfile",
    load: async () => {
      const m = await import('./lint.js');
      return { command: m.lintCommand, options: m.LINT_OPTIONS };
    },
  },
  {
    name: 'run',
    describe: 'Run a command in a new container',
    load: async () => ({ command: (await import('./run.js')).runCommand, raw: true }),
  },
  { name: 'images', describe: 'List images', load: async () => plain((await import('./images.js')).imagesCommand) },
  {
    name: 'tag',
    describe: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    load: async () => plain((await import('./tag.js')).tagCommand),
  },
  {
    name: 'rmi',
    describe: 'Remove one or more images',
    load: async () => plain((await import('./rmi.js')).rmiCommand),
  },
  {
    name: 'inspect',
    describe: 'Display detailed information on one or more images',
    load: async () => plain((await import('./inspect.js')).inspectCommand),
  },
  {
    name: 'history',
    describe: 'Show the history of an image',
    load: async () => plain((await import('./history.js')).historyCommand),
  },
  {
    name: 'save',
    describe: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    load: async () => plain((await import('./save.js')).saveCommand),
  },
  {
    name: 'load',
    describe: 'Load images from a tar archive or STDIN',
    load: async () => plain((await import('./load.js')).loadCommand),
  },
  {
    name: 'import',
    describe: 'Import the contents from a tarball or a directory to create a filesystem image',
    load: async () => plain((await import('./import.js')).importCommand),
  },
  {
    name: 'export',
    describe: "Export an image's flattened filesystem as a tar archive",
    load: async () => plain((await import('./export.js')).exportCommand),
  },
  {
    name: 'prune',
    describe: 'Remove unused data: unreferenced blobs and snapshots (and untagged images with --all)',
    load: async () => plain((await import('./prune.js')).pruneCommand),
  },
  {
    name: 'info',
    describe: 'Display system-wide information',
    load: async () => plain((await import('./info.js')).infoCommand),
  },
];
