import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { configView, dropDockerExportArtifacts, formatTree, historyView } from '../../helpers/image-tree.js';
import { dockerBuild, dockerImage, loadCases, prepareContext } from './support.js';

it('dump', async () => {
  const work = mkdtempSync('/var/tmp/tsb-conf-dump-');
  let out = '';
  for (const spec of loadCases()) {
    const ctx = join(work, spec.name);
    prepareContext(spec, ctx);
    for (const [i, b] of (spec.bases ?? []).entries()) {
      const bctx = join(work, `${spec.name}-b${i}`);
      prepareContext(spec, bctx, join(spec.dir, b.dir), undefined);
      await dockerBuild({ context: bctx, tag: b.tag });
    }
    await dockerBuild({ context: ctx, tag: `tsb-conf-${spec.name}`, buildArgs: spec.buildArgs, target: spec.target });
    const img = await dockerImage(`tsb-conf-${spec.name}`);
    dropDockerExportArtifacts(img.tree, new Map(img.tree));
    out += `===== ${spec.name}\n${formatTree(img.tree)
      .filter((l) => !/^(bin|sbin|usr)\//.test(l))
      .join('\n')}\n`;
    out += `${JSON.stringify(configView(img.config.config))}\n${historyView(img.config.history)
      .map((h) => `${h.empty_layer ? 'E' : 'L'} ${h.created_by}`)
      .join('\n')}\nlayers=${img.config.rootfs?.diff_ids?.length}\n`;
  }
  writeFileSync('/tmp/conf-dump.txt', out);
}, 600_000);
