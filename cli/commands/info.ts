import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openSnapshots } from './_image.js';

interface InfoArgs extends GlobalOptions {
  format?: string;
}

/** `tsbuild info`: the store root, the storage driver and counts. */
export const infoCommand: CommandModule<GlobalOptions, InfoArgs> = {
  command: 'info',
  describe: 'Display system-wide information',
  builder: (y: Argv<GlobalOptions>) =>
    y.option('format', { type: 'string', choices: ['text', 'json'], describe: 'Output format' }),
  handler: async (args) => {
    const lib = await imageLib();
    const { store, sn } = await openSnapshots(args);
    const counts = store.counts();
    let bytes = 0;
    for (const d of store.content.listSync()) bytes += store.content.size(d) ?? 0;
    let snapshots = 0;
    let active = 0;
    await sn.walk((s) => {
      snapshots++;
      if (s.kind !== 'committed') active++;
    });
    const info = {
      RootDir: store.root,
      StorageDriver: sn.driver,
      Images: counts.images,
      Names: counts.names,
      Blobs: counts.blobs,
      BlobBytes: bytes,
      Snapshots: snapshots,
      ActiveSnapshots: active,
      Leases: counts.leases,
      Platform: lib.formatPlatform(lib.hostPlatform()),
    };
    if (args.format === 'json') {
      process.stdout.write(`${JSON.stringify(info)}\n`);
      return;
    }
    process.stdout.write(
      [
        `Root Dir: ${info.RootDir}`,
        `Storage Driver: ${info.StorageDriver}`,
        `Platform: ${info.Platform}`,
        `Images: ${info.Images}`,
        ` Names: ${info.Names}`,
        `Blobs: ${info.Blobs} (${lib.humanSize(bytes)})`,
        `Snapshots: ${info.Snapshots}`,
        ` Active: ${info.ActiveSnapshots}`,
        `Leases: ${info.Leases}`,
        '',
      ].join('\n'),
    );
  },
};
