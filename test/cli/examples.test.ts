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
    expect(files.sort()).toEqual(['github-actions-script.yml', 'github-actions.yml', 'gitlab-ci.yml']);
  });

  it.each(files)('%s: no step fetches the unpublished package from npm', (file) => {
    expect(load(file).text).not.toMatch(FROM_NPM);
  });

  it.each(githubFiles)(
    '%s: every action is pinned to a full commit SHA, with its version in a comment',
    (file) => {
      const { text, doc } = load(file);
      const uses = Object.values(doc.jobs as Record<string, Job>).flatMap((job) =>
        (job.steps ?? []).flatMap((s) => (s.uses === undefined ? [] : [s.uses])),
      );
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
      const jobs = load(file).doc.jobs as Record<string, Job>;
      let checked = 0;
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
      expect(checked).toBeGreaterThan(0);
    },
  );

  it.each(files)('%s: the repository scripts it runs exist in this repository', (file) => {
    const text = load(file).text;
    const scripts = [...text.matchAll(new RegExp(REPO_SCRIPT.source, 'gm'))].map((m) => m[2] ?? '');
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      // dist/ is what `npm run build` makes from the checkout; bin/ is committed.
      expect(existsSync(script) || script.startsWith('dist/'), `${file}: ${script}`).toBe(true);
      if (script.startsWith('dist/')) expect(script).toBe('dist/cli.js');
    }
  });

  it('gitlab-ci.yml: the job that runs the script keeps GitLab’s checkout, and the job it needs exists', () => {
    const doc = load('gitlab-ci.yml').doc as Record<string, Job & { needs?: string[] }>;
    const trigger = doc['trigger-deploy'];
    expect(trigger?.script?.some((line) => REPO_SCRIPT.test(line))).toBe(true);
    expect(trigger?.variables?.GIT_STRATEGY).not.toBe('none');
    for (const need of trigger?.needs ?? []) expect(Object.keys(doc)).toContain(need);
  });

  it('README and docs show no install of the unpublished package from npm', () => {
    const docs = ['README.md', ...readdirSync('docs').map((f) => join('docs', f))];
    for (const file of docs.filter((f) => f.endsWith('.md'))) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(FROM_NPM);
    }
  });
});
