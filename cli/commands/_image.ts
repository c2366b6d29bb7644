import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { GlobalOptions } from '../global-options.js';

/** Helpers shared by the image commands (private to cli/commands). */

export async function imageLib() {
  return import('../../image/index.js');
}

export async function openStore(args: GlobalOptions) {
  const { openImageStore } = await imageLib();
  return openImageStore(args.root);
}

/** The store and its snapshotter (opening it recovers what crashed processes left). */
export async function openSnapshots(args: GlobalOptions) {
  const store = await openStore(args);
  const sn = await store.snapshotter();
  return { store, sn };
}

/**
 * Runs `write` against `-o FILE` (written to a temporary name beside it and
 * renamed when complete, so a failure leaves no half file) or stdout, which
 * must not be a terminal.
 */
export async function withOutput(
  file: string | undefined,
  what: string,
  write: (out: Writable) => Promise<void>,
): Promise<void> {
  const { UsageError } = await import('../../errors.js');
  if (file === undefined || file === '-') {
    if (process.stdout.isTTY) {
      throw new UsageError(`cowardly refusing to write ${what} to a terminal: use the -o flag or redirect`, {
        flag: '--output',
      });
    }
    // A reader that stops early (`| head`) closes the pipe: stop quietly, as docker does when SIGPIPE ends it.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      throw err;
    });
    await write(process.stdout);
    return;
  }
  const tmp = `${file}.tsbuild-${process.pid}.tmp`;
  try {
    const out = createWriteStream(tmp);
    await write(out);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
