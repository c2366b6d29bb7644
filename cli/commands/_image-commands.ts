import type { CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { exportCommand } from './export.js';
import { historyCommand } from './history.js';
import { imagesCommand } from './images.js';
import { importCommand } from './import.js';
import { infoCommand } from './info.js';
import { inspectCommand } from './inspect.js';
import { loadCommand } from './load.js';
import { pruneCommand } from './prune.js';
import { rmiCommand } from './rmi.js';
import { saveCommand } from './save.js';
import { tagCommand } from './tag.js';

/** The image store's commands, registered in index.ts. */
// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types
export const imageCommands: CommandModule<GlobalOptions, any>[] = [
  imagesCommand,
  tagCommand,
  rmiCommand,
  inspectCommand,
  historyCommand,
  saveCommand,
  loadCommand,
  importCommand,
  exportCommand,
  pruneCommand,
  infoCommand,
];
