import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const EXAMPLES = 'examples';
const files = readdirSync(EXAMPLES).filter((name) => /\.ya?ml$/.test(name));

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly 'working-directory'?: string;
}

interface Job {
  readonly steps?: Step[];
  readonly script?: string[];
  readonly variables?: Record<string, string>;
}

/** Shell text that runs a script of a checked-out repository: `./bin/x.sh`, `iwomp/dist/cli.js`. */
const REPO_SCRIPT = /(?:^|\s)(?:\.\/)?([\w.-]+\/)*(bin\/[\w.-]+\.sh|dist\/[\w.-]+\.js)\b/;
/** iwomp-in-aws is not on npm: nothing may fetch it from there. */
const FROM_NPM =
  /\b(npx|npm (i|install|exec)|pnpm dlx|yarn dlx)( [-\w=]+)* iwomp-in-aws(?![\w-])|iwomp-in-aws@\d/;

function load(file: string): { text: string; doc: Record<string, unknown> } {
  const text = readFileSync(join(EXAMPLES, file), 'utf8');
  return { text, doc: parse(text) as Record<string, unknown> };
}

const githubFiles = files.filter((f) => f.startsWith('github-actions'));

describe('CI examples', () => {
  it('there are examples for GitHub Actions (CLI and script) and GitLab CI', () => {
    // GIVEN the YAML files in examples/
    // WHEN / THEN they are exactly the three expected ones
    expect(files.sort()).toEqual(['github-actions-script.yml', 'github-actions.yml', 'gitlab-ci.yml']);
  });

  it.each(files)('%s: no step fetches the unpublished package from npm', (file) => {
    // GIVEN an example file
    // WHEN / THEN its text fetches nothing from npm
    expect(load(file).text).not.toMatch(FROM_NPM);
  });

  it.each(githubFiles)(
    '%s: every action is pinned to a full commit SHA, with its version in a comment',
    (file) => {
      // GIVEN a GitHub Actions example
      const { text, doc } = load(file);
      // WHEN the actions its steps use are collected
      const uses = Object.values(doc.jobs as Record<string, Job>).flatMap((job) =>
        (job.steps ?? []).flatMap((s) => (s.uses === undefined ? [] : [s.uses])),
      );
      // THEN there are some, each pinned to a full SHA with a # vX.Y.Z comment
      expect(uses.length).toBeGreaterThan(0);
      for (const ref of uses) {
        expect(ref).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
        expect(text).toMatch(
          new RegExp(`uses: ${ref.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} # v\\d+\\.\\d+\\.\\d+\\n`),
        );
      }
    },
  );

  it.each(githubFiles)(
    '%s: a step that runs a repository script comes after the checkout that brings it',
    (file) => {
      // GIVEN the jobs of a GitHub Actions example
      const jobs = load(file).doc.jobs as Record<string, Job>;
      let checked = 0;
      // WHEN / THEN each step that runs a repository script, or sets a working directory, follows its checkout
      for (const job of Object.values(jobs)) {
        const checkouts: string[] = [];
        for (const step of job.steps ?? []) {
          if (step.uses?.startsWith('actions/checkout@')) checkouts.push(String(step.with?.path ?? '.'));
          const text = step.run ?? '';
          const script = REPO_SCRIPT.exec(text);
          const dir = step['working-directory'];
          if (script === null && dir === undefined) continue;
          checked += 1;
          // The directory the step runs in, or its script sits in, was checked out by an earlier step.
          const top = (dir ?? script?.[1] ?? '.').split('/')[0] ?? '.';
          expect(checkouts, `${file}: "${text || dir}" needs a checkout of ${top} before it`).toContain(top);
        }
      }
      // AND at least one step was checked
      expect(checked).toBeGreaterThan(0);
    },
  );

  it.each(files)('%s: the repository scripts it runs exist in this repository', (file) => {
    // GIVEN an example file
    const text = load(file).text;
    // WHEN the repository scripts it runs are collected
    const scripts = [...text.matchAll(new RegExp(REPO_SCRIPT.source, 'gm'))].map((m) => m[2] ?? '');
    // THEN there is at least one, and each exists here (or is dist/cli.js, which the build makes)
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      // dist/ is what `npm run build` makes from the checkout; bin/ is committed.
      expect(existsSync(script) || script.startsWith('dist/'), `${file}: ${script}`).toBe(true);
      if (script.startsWith('dist/')) expect(script).toBe('dist/cli.js');
    }
  });

  it('gitlab-ci.yml: the job that runs the script keeps GitLab’s checkout, and the job it needs exists', () => {
    // GIVEN the trigger-deploy job of gitlab-ci.yml
    const doc = load('gitlab-ci.yml').doc as Record<string, Job & { needs?: string[] }>;
    const trigger = doc['trigger-deploy'];
    // WHEN / THEN it runs a repository script, keeps GitLab's checkout, and needs only jobs that exist
    expect(trigger?.script?.some((line) => REPO_SCRIPT.test(line))).toBe(true);
    expect(trigger?.variables?.GIT_STRATEGY).not.toBe('none');
    for (const need of trigger?.needs ?? []) expect(Object.keys(doc)).toContain(need);
  });

  it('README and docs show no install of the unpublished package from npm', () => {
    // GIVEN the README and every Markdown file under docs/
    const docs = ['README.md', ...readdirSync('docs').map((f) => join('docs', f))];
    // WHEN / THEN none installs the package from npm
    for (const file of docs.filter((f) => f.endsWith('.md'))) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(FROM_NPM);
    }
  });
});
