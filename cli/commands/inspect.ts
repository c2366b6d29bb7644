import type { Argv, CommandModule } from 'yargs';
import type { GlobalOptions } from '../global-options.js';
import { imageLib, openStore } from './_image.js';

interface InspectArgs extends GlobalOptions {
  images: string[];
  format?: string;
}

/**
 * Docker's container.Config fields in the order `docker inspect` prints them: the
 * value printed when the image has none (undefined: the field is left out, as
 * Go's omitempty does).
 */
const CONFIG_FIELDS: [string, unknown][] = [
  ['Hostname', ''],
  ['Domainname', ''],
  ['User', ''],
  ['AttachStdin', false],
  ['AttachStdout', false],
  ['AttachStderr', false],
  ['ExposedPorts', undefined],
  ['Tty', false],
  ['OpenStdin', false],
  ['StdinOnce', false],
  ['Env', null],
  ['Cmd', null],
  ['Healthcheck', undefined],
  ['ArgsEscaped', undefined],
  ['Image', ''],
  ['Volumes', null],
  ['WorkingDir', ''],
  ['Entrypoint', null],
  ['NetworkDisabled', undefined],
  ['MacAddress', undefined],
  ['OnBuild', null],
  ['Labels', null],
  ['StopSignal', undefined],
  ['StopTimeout', undefined],
  ['Shell', undefined],
];

/** The image's config as Docker prints it: its fields in Docker's order, maps with sorted keys (as Go writes them). */
function dockerConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set(CONFIG_FIELDS.map(([k]) => k));
  for (const [key, empty] of CONFIG_FIELDS) {
    const value = config[key] ?? empty;
    if (value !== undefined && !(empty === undefined && value === false)) out[key] = sortedMap(value);
  }
  for (const [key, value] of Object.entries(config)) if (!known.has(key)) out[key] = sortedMap(value);
  return out;
}

function sortedMap(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, obj[k]]),
  );
}

/** The maps and nullable slices of `docker inspect`'s image type, for templates (`{{.Config.Cmd}}` of null is `[]`). */
const INSPECT_TYPES: Record<string, 'map' | 'slice'> = {
  RepoTags: 'slice',
  RepoDigests: 'slice',
  'Config.Env': 'slice',
  'Config.Cmd': 'slice',
  'Config.Entrypoint': 'slice',
  'Config.OnBuild': 'slice',
  'Config.Shell': 'slice',
  'Config.Volumes': 'map',
  'Config.Labels': 'map',
  'Config.ExposedPorts': 'map',
  'RootFS.Layers': 'slice',
};

/** `tsbuild inspect IMAGE...`: a JSON array as `docker image inspect` prints it. */
export const inspectCommand: CommandModule<GlobalOptions, InspectArgs> = {
  command: 'inspect <images..>',
  describe: 'Display detailed information on one or more images',
  builder: (y: Argv<GlobalOptions>) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'IMAGE...' })
      .option('format', {
        alias: 'f',
        type: 'string',
        requiresArg: true,
        describe: "Format output using a Go template ({{.Id}}, {{json .Config}}) or 'json'",
      })
      .option('type', { type: 'string', choices: ['image'], describe: 'Only images (the only kind tsbuild has)' }),
  handler: async (args) => {
    const lib = await imageLib();
    const { formatError } = await import('../render/error.js');
    const store = await openStore(args);
    const out: unknown[] = [];
    let failed = false;
    for (const ref of args.images) {
      try {
        const { image } = store.resolve(ref);
        const { config } = await store.config(image);
        const layers = store.layers(image);
        const entry: Record<string, unknown> = {
          Id: image.id,
          RepoTags: image.names.map((n) => lib.familiarString(n)),
          RepoDigests: image.repoDigests.map((d) => lib.familiarString(d)),
          Parent: config.parent ?? '',
          Comment: config.comment ?? config.history?.at(-1)?.comment ?? '',
          Created: config.created ?? '',
          DockerVersion: config.docker_version ?? '',
          Author: config.author ?? '',
          Config: dockerConfig((config.config ?? {}) as Record<string, unknown>),
          Architecture: config.architecture,
        };
        if (config.variant) entry.Variant = config.variant;
        entry.Os = config.os;
        if (config['os.version']) entry.OsVersion = config['os.version'];
        entry.Size = await store.unpackedSize(image);
        entry.RootFS = { Type: 'layers', Layers: layers.map((l) => l.diffId) };
        entry.Metadata = {
          LastTagTime: image.lastTagTime ? new Date(image.lastTagTime).toISOString() : '0001-01-01T00:00:00Z',
        };
        entry.Descriptor = {
          mediaType: image.mediaType,
          digest: image.digest,
          size: store.content.size(image.digest) ?? 0,
        };
        out.push(entry);
      } catch (err) {
        failed = true;
        process.stderr.write(`${formatError(err, { debug: args.debug })}\n`);
      }
    }
    if (args.format !== undefined && args.format !== '' && args.format !== 'json') {
      const { parseGoTemplate } = await import('../render/go-template.js');
      const template = parseGoTemplate(args.format, { missingField: 'error', types: INSPECT_TYPES });
      for (const entry of out) process.stdout.write(`${template.render(entry)}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    }
    if (failed) process.exitCode = 1;
  },
};
