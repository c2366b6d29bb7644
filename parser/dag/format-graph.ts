import { formatPlatform } from './platform.js';
import type { BuildGraph, Stage, Step } from './types.js';

/** A readable outline of a build graph (what `tsbuild parse --graph` prints without --json). */
export function formatBuildGraph(graph: BuildGraph): string {
  const rows: string[] = [];
  const target = graph.stages.find((s) => s.index === graph.target);
  rows.push(`target: ${stageLabel(graph.target, target?.name)}, platform ${formatPlatform(graph.platform)}`);
  for (const s of graph.stages) {
    rows.push(`${stageLabel(s.index, s.name)} FROM ${baseLabel(s)} (${formatPlatform(s.platform)})`);
    if (s.dependencies.length > 0) rows.push(`  needs: ${s.dependencies.map((d) => `stage ${d}`).join(', ')}`);
    for (const step of s.steps) rows.push(`  ${step.range.start.line}:${step.range.start.column} ${stepLabel(step)}`);
  }
  if (graph.pruned.length > 0) rows.push(`pruned: ${graph.pruned.map((p) => stageLabel(p.index, p.name)).join(', ')}`);
  for (const w of graph.warnings) rows.push(`warning: ${w.message}`);
  return `${rows.join('\n')}\n`;
}

function stageLabel(index: number, name: string | undefined): string {
  return name === undefined ? `stage ${index}` : `stage ${index} (${name})`;
}

function baseLabel(s: Stage): string {
  switch (s.base.type) {
    case 'scratch':
      return 'scratch';
    case 'stage':
      return `stage ${s.base.stage}`;
    case 'image':
      return s.base.normalized;
  }
}

function stepLabel(step: Step): string {
  const prefix = step.onbuild ? 'ONBUILD ' : '';
  switch (step.op) {
    case 'run':
      return `${prefix}RUN ${JSON.stringify(step.args)}`;
    case 'copy':
    case 'add': {
      const from = step.from
        ? ` from ${step.from.type === 'stage' ? `stage ${step.from.stage}` : step.from.normalized}`
        : '';
      const srcs = step.sources.map((x) => (x.type === 'path' ? x.path : x.type === 'heredoc' ? `<<${x.name}` : x.url));
      return `${prefix}${step.op.toUpperCase()}${from} ${srcs.join(' ')} → ${step.destPath}`;
    }
    default:
      return `${prefix}${step.history?.createdBy ?? step.name}`;
  }
}
