import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const src = join(root, 'src');
const FORBIDDEN = ['scripts', 'bench', 'test'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The relative imports (static, re-exports, dynamic) of `text`, written in `file`, that reach a forbidden folder. */
function forbiddenImports(file: string, text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)]
    .map((m) => relative(root, resolve(dirname(file), m[1] as string)))
    .filter((target) => FORBIDDEN.some((dir) => target.startsWith(`${dir}/`)))
    .map((target) => `${relative(root, file)} → ${target}`);
}

describe('the published sources', () => {
  it('import nothing from scripts/, bench/ or test/: the package ships without them', () => {
    // GIVEN every source file
    const files = sourceFiles(src);
    // WHEN its relative imports are resolved
    const found = files.flatMap((file) => forbiddenImports(file, readFileSync(file, 'utf8')));
    // THEN none reaches those folders
    expect(files.length).toBeGreaterThan(40);
    expect(found).toEqual([]);
  });

  it('sees such an import when there is one (the check is live)', () => {
    const file = join(src, 'infra', 'bundling.ts');
    expect(forbiddenImports(file, "import { entries } from '../../scripts/build.js';")).toEqual([
      'src/infra/bundling.ts → scripts/build.js',
    ]);
    expect(forbiddenImports(file, "const m = await import('../../test/support/moto.js');")).toHaveLength(1);
    expect(forbiddenImports(file, "import { x } from './bundle-options.js';")).toEqual([]);
  });
});
