/**
 * Parser speed: parse and parse+graph of a generated 5,000-instruction Dockerfile (warm medians, target
 * < 50 ms), and `tsbuild parse` / `parse --graph` / `lint` start to finish against `node -e ''` (target well
 * under 200 ms). Not a test: it prints numbers.
 *
 *   npm run build
 *   npm run bench:parse -- [instructions=5000] [runs=20]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { toBuildGraph } from '../parser/dag/index.js';
import { parseDockerfile } from '../parser/parse-dockerfile.js';

const count = Number(process.argv[2] ?? 5000);
const runs = Number(process.argv[3] ?? 20);
/** The bundled CLI (what bin/tsbuild starts), else the tsc output. */
const CLI = [join(process.cwd(), 'dist/bin/main.cjs'), join(process.cwd(), 'dist/cli/main.js')].find((f) =>
  existsSync(f),
)!;

/** A realistic mix: stages, ARG/ENV with expansion, RUN with mounts and continuations, COPY --from, heredocs. */
export function generateDockerfile(instructions: number): string {
  const lines: string[] = ['# syntax=docker/dockerfile:1', 'ARG BASE=busybox:1.36', 'ARG VERSION=1.0.0'];
  let n = 2;
  let stage = 0;
  while (n < instructions) {
    lines.push(`FROM \${BASE} AS stage${stage}`);
    n++;
    for (let i = 0; i < 48 && n < instructions; i++, n++) {
      switch (i % 12) {
        case 0:
          lines.push(`ARG VERSION`, `ENV APP_VERSION=\${VERSION} APP_HOME=/opt/app${i}`);
          n++;
          break;
        case 1:
          lines.push(`WORKDIR \${APP_HOME}/src`);
          break;
        case 2:
          lines.push(
            `RUN --mount=type=cache,target=/root/.cache apt-get update \\`,
            `    && apt-get install -y curl git make \\`,
            `    # a comment inside the continuation`,
            `    && rm -rf /var/lib/apt/lists/*`,
          );
          break;
        case 3:
          lines.push(`COPY --chown=1000:1000 --chmod=0644 package.json package-lock.json ./`);
          break;
        case 4:
          lines.push(`LABEL org.opencontainers.image.version="\${APP_VERSION}" stage="${stage}"`);
          break;
        case 5:
          lines.push(`RUN ["/bin/sh", "-c", "echo exec form ${i}"]`);
          break;
        case 6:
          lines.push(`EXPOSE 80${i % 10} 443/tcp`);
          break;
        case 7:
          lines.push('COPY <<EOF /etc/app.conf', `version=\${APP_VERSION}`, `index=${i}`, 'EOF');
          break;
        case 8:
          lines.push(stage > 0 ? `COPY --from=stage${stage - 1} /opt /opt` : `ADD https://example.com/x${i}.tgz /tmp/`);
          break;
        case 9:
          lines.push(`USER 1000:1000`);
          break;
        case 10:
          lines.push(`HEALTHCHECK --interval=30s --timeout=5s CMD curl -f http://localhost/ || exit 1`);
          break;
        default:
          lines.push(`RUN echo "step ${i} of stage ${stage}" > /tmp/step${i}`);
      }
    }
    stage++;
  }
  lines.push('CMD ["/opt/app/bin/start"]');
  return `${lines.join('\n')}\n`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function timeIt(fn: () => void, n: number): number {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function timeProcess(args: string[], n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    const dt = performance.now() - t0;
    if (r.status !== 0 && args[0] !== '-e') throw new Error(`${args.join(' ')} exited ${r.status}`);
    if (i > 0) times.push(dt);
  }
  return median(times);
}

const text = generateDockerfile(count);
const filename = 'Dockerfile';
const parsed = parseDockerfile(text, { filename });
const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
if (errors.length > 0) throw new Error(`generated Dockerfile does not parse: ${errors[0]!.message}`);
const options = {
  platform: { os: 'linux', architecture: 'amd64' },
  buildPlatform: { os: 'linux', architecture: 'amd64' },
};
const graph = toBuildGraph(parsed.ast, options);

const parseMs = timeIt(() => parseDockerfile(text, { filename }), runs);
const graphMs = timeIt(() => toBuildGraph(parseDockerfile(text, { filename }).ast, options), runs);
const graphOnlyMs = timeIt(() => toBuildGraph(parsed.ast, options), runs);

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-bench-parse-'));
const file = join(dir, 'Dockerfile');
writeFileSync(file, text);
const small = join(dir, 'Dockerfile.small');
writeFileSync(small, generateDockerfile(30));
const rows: [string, number][] = [];
try {
  const cliRuns = Math.max(5, Math.min(runs, 15));
  rows.push(["node -e ''", timeProcess(['-e', ''], cliRuns)]);
  rows.push(['tsbuild parse (30 instructions)', timeProcess([CLI, 'parse', '-f', small], cliRuns)]);
  rows.push([`tsbuild parse (${count} instructions)`, timeProcess([CLI, 'parse', '-f', file], cliRuns)]);
  rows.push([
    `tsbuild parse --graph --json (${count})`,
    timeProcess([CLI, 'parse', '--graph', '--json', '-f', file], cliRuns),
  ]);
  rows.push([`tsbuild lint (${count})`, timeProcess([CLI, 'lint', '-f', file], cliRuns)]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const instructionsParsed = parsed.ast.instructions.length;
const steps = graph.stages.reduce((a, s) => a + s.steps.length, 0);
process.stdout.write(
  [
    `Dockerfile: ${instructionsParsed} instructions, ${graph.stages.length} stages, ${steps} steps, ${text.length} bytes`,
    `parse (warm median of ${runs}):          ${parseMs.toFixed(1)} ms`,
    `graph only (warm median of ${runs}):     ${graphOnlyMs.toFixed(1)} ms`,
    `parse + graph (warm median of ${runs}):  ${graphMs.toFixed(1)} ms   (target < 50 ms)`,
    'start to finish (median):',
    ...rows.map(([name, ms]) => `  ${name.padEnd(40)} ${ms.toFixed(0)} ms`),
    '',
  ].join('\n'),
);
