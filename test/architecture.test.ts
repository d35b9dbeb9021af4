/**
 * The layering docs/architecture.md describes, checked on the sources: no import cycle, a core
 * without I/O, and one direction between local mode and its adapters (that nothing in src/ imports
 * scripts/, bench/ or test/ is test/infra/source-boundary.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// Static imports, re-exports and dynamic imports with a literal specifier.
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2]) as string);
}

function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return resolve(dirname(from), specifier).replace(/\.js$/, '.ts');
}

const files = sources(SRC);
const graph = new Map(
  files.map((file) => [
    file,
    importsOf(file)
      .map((s) => resolveLocal(file, s))
      .filter((f): f is string => f !== undefined),
  ]),
);
const rel = (file: string) => relative(ROOT, file);

describe('source layering', () => {
  it('finds the sources and their imports (the check below sees something)', () => {
    // GIVEN / WHEN the graph is built
    // THEN it holds every source file and the imports of a known one
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get(join(SRC, 'worker/main.ts'))).toContain(join(SRC, 'worker/run-worker.ts'));
  });

  it('has no import cycle among the files of src/', () => {
    // GIVEN the import graph
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map(rel).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    // WHEN every file is walked
    for (const file of files) visit(file, []);
    // THEN no walk comes back to where it started
    expect(cycles).toEqual([]);
  });

  it('keeps src/core free of I/O, AWS and the other layers', () => {
    // GIVEN the core's files
    const core = files.filter((file) => rel(file).startsWith('src/core/'));
    // WHEN their imports are read
    const offending = core.flatMap((file) =>
      importsOf(file)
        .filter((s) =>
          s.startsWith('.') ? !resolveLocal(file, s)?.startsWith(join(SRC, 'core')) : !PURE.has(s),
        )
        .map((s) => `${rel(file)} imports ${s}`),
    );
    // THEN only other core modules and pure libraries
    expect(offending).toEqual([]);
  });

  it('lets adapters/local depend on local, never the other way', () => {
    // GIVEN / WHEN / THEN
    const backwards = files
      .filter((file) => rel(file).startsWith('src/local/'))
      .flatMap((file) =>
        (graph.get(file) ?? [])
          .filter((target) => rel(target).startsWith('src/adapters/'))
          .map((target) => `${rel(file)} -> ${rel(target)}`),
      );
    expect(backwards).toEqual([]);
  });
});

// Libraries without I/O the core may use: path arithmetic, text decoding, in-memory streams
// (the streaming redactor is a Transform; it reads and writes nothing itself), and a JSON scanner
// (jsonc-parser locates a syntax error in a text it is given), and zod's messages (zod/locales:
// zod/mini ships none until one is configured).
const PURE = new Set([
  'zod',
  'zod/mini',
  'zod/locales',
  'picomatch',
  'jsonc-parser',
  'node:path',
  'node:string_decoder',
  'node:stream',
]);
