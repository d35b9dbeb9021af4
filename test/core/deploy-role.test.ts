import { describe, expect, it } from 'vitest';
import { deploySession, encodeTagValue, parseRoleArn, roleForBranch } from '../../src/core/deploy-role.js';
import { ConfigError } from '../../src/core/errors.js';
import { parseProjectDocument, resolveProjectConfig } from '../../src/core/project-config.js';

const ROLE = 'arn:aws:iam::123456789012:role/iwomp-deploy/demo-deploy';
const READ_ONLY = 'arn:aws:iam::123456789012:role/iwomp-deploy/demo-diff';

describe('deploy role ARNs', () => {
  it.each([
    ROLE,
    'arn:aws-cn:iam::123456789012:role/iwomp-deploy/x',
    'arn:aws-us-gov:iam::123456789012:role/iwomp-deploy/team/a/x+y=z,w.v@u_t-s',
  ])('accepts %s', (arn) => {
    // GIVEN / WHEN / THEN
    expect(parseRoleArn(arn).arn).toBe(arn);
  });

  it('splits an ARN into its parts', () => {
    // GIVEN / WHEN
    const role = parseRoleArn('arn:aws:iam::123456789012:role/iwomp-deploy/team/demo');
    // THEN
    expect(role).toMatchObject({
      partition: 'aws',
      account: '123456789012',
      path: '/iwomp-deploy/team/',
      name: 'demo',
    });
  });

  it.each([
    ['not an ARN', 'demo-deploy', /expected an IAM role ARN/],
    ['a user', 'arn:aws:iam::123456789012:user/iwomp-deploy/x', /expected an IAM role ARN/],
    [
      'an unknown partition',
      'arn:aws-moon:iam::123456789012:role/iwomp-deploy/x',
      /unknown partition "aws-moon"/,
    ],
    ['a short account', 'arn:aws:iam::12345:role/iwomp-deploy/x', /account must be 12 digits/],
    ['a region', 'arn:aws:iam:us-east-1:123456789012:role/iwomp-deploy/x', /expected an IAM role ARN/],
    ['no name', 'arn:aws:iam::123456789012:role/iwomp-deploy/', /role name must be 1-64/],
    [
      'a long name',
      `arn:aws:iam::123456789012:role/iwomp-deploy/${'x'.repeat(65)}`,
      /role name must be 1-64/,
    ],
    ['a name with a space', 'arn:aws:iam::123456789012:role/iwomp-deploy/a b', /role name/],
    ['the root path', 'arn:aws:iam::123456789012:role/admin', /must be on the path \/iwomp-deploy\//],
    ['another path', 'arn:aws:iam::123456789012:role/ops/admin', /must be on the path \/iwomp-deploy\//],
    ['a look-alike path', 'arn:aws:iam::123456789012:role/iwomp-deploy-evil/admin', /must be on the path/],
    ['a path with a control character', 'arn:aws:iam::123456789012:role/iwomp-deploy/\n/x', /role path/],
  ])('refuses %s with one clear line', (_what, arn, message) => {
    // GIVEN / WHEN
    const run = () => parseRoleArn(arn);
    // THEN
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    expect(() => run()).toThrow(/^deployRole: /);
  });

  it('checks every role of a project document when it is read', () => {
    // GIVEN documents with a bad role, alone or in a rule
    const single = JSON.stringify({ deployRole: 'arn:aws:iam::123456789012:role/admin' });
    const rules = JSON.stringify({
      deployRole: [
        { branches: ['main'], roleArn: ROLE },
        { branches: ['*'], roleArn: 'x' },
      ],
    });
    // WHEN / THEN
    expect(() => parseProjectDocument(single, '/iwomp-in-aws/demo')).toThrow(
      /^\/iwomp-in-aws\/demo: deployRole: the role must be on the path/,
    );
    expect(() => parseProjectDocument(rules, '/iwomp-in-aws/demo')).toThrow(
      /deployRole\[1\]\.roleArn: expected an IAM role ARN/,
    );
  });
});

describe('the role a branch deploys with', () => {
  const config = (deployRole: unknown) =>
    resolveProjectConfig(
      undefined,
      parseProjectDocument(JSON.stringify({ gitUrl: 'https://h/r.git', command: 'x', deployRole }), 'doc'),
    );

  it('is the one role for every branch, or none', () => {
    // GIVEN / WHEN / THEN
    expect(roleForBranch(config(ROLE).deployRole, 'feature/x')).toBe(ROLE);
    expect(
      roleForBranch(
        resolveProjectConfig(undefined, { gitUrl: 'https://h/r.git', command: 'x' }).deployRole,
        'main',
      ),
    ).toBeUndefined();
  });

  it('is the first rule that allows the branch, and none when no rule does', () => {
    // GIVEN the deploy role for main and a read-only role for review branches
    const setting = config([
      { branches: ['main'], roleArn: ROLE },
      { branches: ['review/*'], roleArn: READ_ONLY },
    ]).deployRole;
    // WHEN / THEN
    expect(roleForBranch(setting, 'main')).toBe(ROLE);
    expect(roleForBranch(setting, 'review/42')).toBe(READ_ONLY);
    expect(roleForBranch(setting, 'review/42/deeper')).toBeUndefined();
    expect(roleForBranch(setting, 'mainly')).toBeUndefined();
  });

  it('is inherited from _default and overridden by the project', () => {
    // GIVEN defaults with a role
    const defaults = parseProjectDocument(JSON.stringify({ deployRole: READ_ONLY }), '_default');
    // WHEN / THEN
    expect(resolveProjectConfig(defaults, { gitUrl: 'https://h/r.git', command: 'x' }).deployRole).toBe(
      READ_ONLY,
    );
    expect(
      resolveProjectConfig(defaults, { gitUrl: 'https://h/r.git', command: 'x', deployRole: ROLE })
        .deployRole,
    ).toBe(ROLE);
  });
});

describe('the deploy session', () => {
  it('names the project and the build, and tags project, branch and commit', () => {
    // GIVEN / WHEN
    const session = deploySession({
      project: 'demo',
      branch: 'release/1.0',
      commit: 'a'.repeat(40),
      buildId: 'iwomp-worker:8f2c2d6e-2b1f-4c39-9a8e-0d6b7f0e1a11',
    });
    // THEN every value fits STS's alphabet and limits
    expect(session.sessionName).toBe('iwomp-demo@iwomp-worker-8f2c2d6e-2b1f-4c39-9a8e-0d6b7f0e1a11');
    expect(session.sessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(session.sourceIdentity).toBe('iwomp-demo');
    expect(session.tags).toEqual([
      { Key: 'iwomp:project', Value: 'demo' },
      { Key: 'iwomp:branch', Value: 'release/1.0' },
      { Key: 'iwomp:commit', Value: 'a'.repeat(40) },
    ]);
  });

  it('keeps a long project within 64 characters', () => {
    // GIVEN / WHEN
    const session = deploySession({ project: 'p'.repeat(128), branch: 'main', commit: 'b'.repeat(40) });
    // THEN
    expect(session.sessionName.length).toBeLessThanOrEqual(64);
    expect(session.sourceIdentity.length).toBeLessThanOrEqual(64);
  });

  it('encodes branch tags so that distinct branches never share a value', () => {
    // GIVEN branches that a lossy mapping would merge
    const branches = ['ma_in', 'ma#in', 'ma+23in', 'maïn', 'main'];
    // WHEN encoded
    const values = branches.map(encodeTagValue);
    // THEN all distinct, and all in the tag alphabet
    expect(new Set(values).size).toBe(branches.length);
    for (const v of values) expect(v).toMatch(/^[\w .:/=+@-]{1,256}$/);
    expect(encodeTagValue('ma#in')).toBe('ma+23in');
    expect(encodeTagValue('ma+23in')).toBe('ma+2B23in');
  });
});
