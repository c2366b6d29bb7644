import { posix } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ContainerConfig } from '../../image/index.js';
import { expandWord, expandWords, type Instruction, parseDockerfile } from '../../parser/index.js';

const ALLOWED = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir']);

/**
 * Docker's `import --change` (and `commit --change`): Dockerfile instructions
 * that set the image config — CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
 * USER, VOLUME, WORKDIR (Docker's list) — applied in order, `$VAR`s expanded from
 * the ENV set so far.
 */
export function applyChanges(changes: readonly string[], base: ContainerConfig = {}): ContainerConfig {
  const config: ContainerConfig = { ...base };
  for (const change of changes) {
    const parsed = parseDockerfile(`${change}\n`, { filename: '--change' });
    const error = parsed.diagnostics.find((d) => d.severity === 'error');
    if (error)
      throw new UsageError(`invalid --change ${JSON.stringify(change)}: ${error.message}`, { flag: '--change' });
    for (const ins of parsed.ast.instructions) apply(config, ins, change);
  }
  return config;
}

function apply(config: ContainerConfig, ins: Instruction, change: string): void {
  if (!ALLOWED.has(ins.kind)) {
    throw new UsageError(`${ins.keyword.toLowerCase()} is not a valid change command`, { flag: '--change' });
  }
  const env = config.Env ?? [];
  const word = (w: string) => expandWord(w, env).value;
  switch (ins.kind) {
    case 'cmd':
    case 'entrypoint': {
      const argv = ins.command.form === 'exec' ? ins.command.args : ['/bin/sh', '-c', ins.command.command];
      if (ins.kind === 'cmd') config.Cmd = argv;
      else {
        config.Entrypoint = argv;
        config.Cmd = null;
      }
      return;
    }
    case 'env': {
      const next = [...env];
      for (const p of ins.pairs) {
        const key = word(p.key);
        const value = word(p.value ?? '');
        const at = next.findIndex((e) => e.slice(0, e.indexOf('=')) === key);
        if (at >= 0) next[at] = `${key}=${value}`;
        else next.push(`${key}=${value}`);
      }
      config.Env = next;
      return;
    }
    case 'label':
      config.Labels = { ...(config.Labels ?? {}) };
      for (const p of ins.pairs) config.Labels[word(p.key)] = word(p.value ?? '');
      return;
    case 'expose':
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      for (const w of ins.ports) {
        for (const port of expandWords(w.value, env).values) {
          config.ExposedPorts[port.includes('/') ? port : `${port}/tcp`] = {};
        }
      }
      return;
    case 'volume':
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const p of ins.paths) config.Volumes[word(p.value)] = {};
      return;
    case 'user':
      config.User = word(ins.user.value);
      return;
    case 'workdir':
      config.WorkingDir = posix.resolve(config.WorkingDir || '/', word(ins.path.value));
      return;
    case 'onbuild':
      config.OnBuild = [...(config.OnBuild ?? []), ins.expression];
      return;
    default:
      throw new UsageError(`${change} is not a valid change command`, { flag: '--change' });
  }
}
