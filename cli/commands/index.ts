import type { CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageCommands } from './_image-commands.js';
import { lintCommand } from './lint.js';
import { parseCommand } from './parse.js';
import { runCommand } from './run.js';

/**
 * Every CLI command, one module each. A command module is light: it declares
 * its flags and loads the library it needs inside its handler, so that every
 * command starts fast.
 */
// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types
export const commands: CommandModule<GlobalOptions, any>[] = [lintCommand, parseCommand, ...imageCommands, runCommand];
