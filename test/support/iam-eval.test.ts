import { describe, expect, it } from 'vitest';
import {
  type AssumeRoleQuestion,
  canAssumeRole,
  evaluateIdentity,
  evaluateTrust,
  isAllowed,
  type PolicyDocument,
  UnsupportedPolicyError,
} from './iam-eval.js';

const ACCOUNT = '123456789012';
const WORKER = `arn:aws:iam::${ACCOUNT}:role/iwomp-worker`;
const DEPLOY_A = `arn:aws:iam::${ACCOUNT}:role/iwomp-deploy/project-a`;
const OTHER = `arn:aws:iam::${ACCOUNT}:role/other`;

const doc = (...Statement: PolicyDocument['Statement'][]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: Statement.flat() as PolicyDocument['Statement'],
});

describe('identity policies', () => {
  const registryRead = doc({
    Effect: 'Allow',
    Action: 'ssm:GetParameter',
    Resource: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/iwomp-in-aws/a`,
  });

  it('allows the action on the resource named, and nothing else', () => {
    // GIVEN a policy allowing ssm:GetParameter on one parameter
    // WHEN / THEN that parameter is allowed, another parameter and another action are not
    expect(
      isAllowed(
        [registryRead],
        'ssm:GetParameter',
        `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/iwomp-in-aws/a`,
      ),
    ).toBe(true);
    expect(
      isAllowed(
        [registryRead],
        'ssm:GetParameter',
        `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/iwomp-in-aws/b`,
      ),
    ).toBe(false);
    expect(
      isAllowed(
        [registryRead],
        'ssm:PutParameter',
        `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/iwomp-in-aws/a`,
      ),
    ).toBe(false);
  });

  it('matches actions case-insensitively with wildcards, resources case-sensitively', () => {
    // GIVEN wildcard actions and resources
    const policy = doc({
      Effect: 'Allow',
      Action: ['SSM:Get*', 'sqs:?endMessage'],
      Resource: 'arn:aws:ssm:*:*:parameter/p/*',
    });
    // WHEN / THEN
    expect(isAllowed([policy], 'ssm:GetParameters', 'arn:aws:ssm:eu-west-1:1:parameter/p/x/y')).toBe(true);
    expect(isAllowed([policy], 'sqs:SendMessage', 'arn:aws:ssm:eu-west-1:1:parameter/p/q')).toBe(true);
    expect(isAllowed([policy], 'ssm:PutParameter', 'arn:aws:ssm:eu-west-1:1:parameter/p/x')).toBe(false);
    expect(isAllowed([policy], 'ssm:GetParameter', 'arn:aws:ssm:eu-west-1:1:parameter/P/x')).toBe(false);
  });

  it('lets an explicit Deny win over any Allow, in any policy', () => {
    // GIVEN an allow-everything policy and a deny on one prefix
    const admin = doc({ Effect: 'Allow', Action: '*', Resource: '*' });
    const deny = doc({
      Effect: 'Deny',
      Action: 'ssm:*',
      Resource: `arn:aws:ssm:*:*:parameter/iwomp-in-aws/*`,
    });
    const resource = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/iwomp-in-aws/_default`;
    // WHEN / THEN
    expect(evaluateIdentity([admin, deny], { action: 'ssm:GetParameter', resource })).toBe('explicit-deny');
    expect(evaluateIdentity([deny, admin], { action: 'ssm:GetParameter', resource })).toBe('explicit-deny');
    expect(evaluateIdentity([admin, deny], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe(
      'allow',
    );
    expect(evaluateIdentity([], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' })).toBe(
      'implicit-deny',
    );
  });

  it('reads NotAction as every action but those listed', () => {
    // GIVEN a policy allowing all but IAM
    const policy = doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    // WHEN / THEN
    expect(isAllowed([policy], 'sqs:CreateQueue', 'arn:aws:sqs:us-east-1:1:q')).toBe(true);
    expect(isAllowed([policy], 'iam:CreateRole', 'arn:aws:iam::1:role/x')).toBe(false);
  });

  it('throws on what it does not model instead of deciding', () => {
    // GIVEN statements with an unknown operator, key, element or policy variable
    const cases: PolicyDocument[] = [
      doc({
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': '1' } },
      }),
      doc({
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceIp': '1.2.3.4' } },
      }),
      doc({
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { NumericLessThanIfExists: { 'sts:SourceIdentity': '1' } },
      }),
      doc({ Effect: 'Allow', Action: '*', NotResource: 'x' } as never),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
      doc({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::${aws:username}/*' }),
      doc({
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:TagKeys': 'a' } },
      }),
      doc({ Effect: 'Allow', Action: '*' } as never),
    ];
    // WHEN / THEN each one throws
    for (const policy of cases) {
      expect(() =>
        evaluateIdentity([policy], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }),
      ).toThrow(UnsupportedPolicyError);
    }
  });
});

describe('condition operators', () => {
  const allowIf = (Condition: Record<string, Record<string, unknown>>) =>
    doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*', Condition } as never);
  const decide = (policy: PolicyDocument, context: Record<string, string | string[]>) =>
    isAllowed([policy], 'sts:AssumeRole', DEPLOY_A, context);

  it('StringEquals needs the key present and one value equal; StringNotEquals holds when absent', () => {
    // GIVEN / WHEN / THEN
    const eq = allowIf({ StringEquals: { 'sts:SourceIdentity': ['project-a', 'project-b'] } });
    expect(decide(eq, { 'sts:SourceIdentity': 'project-b' })).toBe(true);
    expect(decide(eq, { 'sts:SourceIdentity': 'project-c' })).toBe(false);
    expect(decide(eq, {})).toBe(false);
    const ne = allowIf({ StringNotEquals: { 'aws:RequestTag/project': 'a' } });
    expect(decide(ne, {})).toBe(true);
    expect(decide(ne, { 'aws:RequestTag/project': 'b' })).toBe(true);
    expect(decide(ne, { 'aws:RequestTag/project': 'a' })).toBe(false);
  });

  it('StringLike and ArnLike match wildcards; ArnLike segment by segment', () => {
    // GIVEN
    const like = allowIf({ StringLike: { 'sts:SourceIdentity': 'iwomp-*' } });
    const arn = allowIf({ ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/iwomp-*` } });
    const arnEq = allowIf({ ArnEquals: { 'aws:PrincipalArn': WORKER } });
    // WHEN / THEN
    expect(decide(like, { 'sts:SourceIdentity': 'iwomp-a' })).toBe(true);
    expect(decide(like, { 'sts:SourceIdentity': 'x-iwomp-a' })).toBe(false);
    expect(decide(like, {})).toBe(false);
    expect(decide(arn, { 'aws:PrincipalArn': WORKER })).toBe(true);
    expect(decide(arn, { 'aws:PrincipalArn': OTHER })).toBe(false);
    expect(decide(arn, { 'aws:PrincipalArn': `arn:aws:iam::999999999999:role/iwomp-worker` })).toBe(false);
    expect(decide(arnEq, { 'aws:PrincipalArn': WORKER })).toBe(true);
    expect(decide(arnEq, { 'aws:PrincipalArn': OTHER })).toBe(false);
  });

  it('Null tests presence; Bool compares true/false', () => {
    // GIVEN
    const mustHave = allowIf({ Null: { 'sts:SourceIdentity': 'false' } });
    const mustLack = allowIf({ Null: { 'sts:SourceIdentity': 'true' } });
    const bool = allowIf({ Bool: { 'aws:PrincipalTag/deploy': 'true' } });
    // WHEN / THEN
    expect(decide(mustHave, { 'sts:SourceIdentity': 'a' })).toBe(true);
    expect(decide(mustHave, {})).toBe(false);
    expect(decide(mustLack, {})).toBe(true);
    expect(decide(mustLack, { 'sts:SourceIdentity': 'a' })).toBe(false);
    expect(decide(bool, { 'aws:PrincipalTag/deploy': 'TRUE' })).toBe(true);
    expect(decide(bool, { 'aws:PrincipalTag/deploy': 'false' })).toBe(false);
  });

  it('ForAllValues holds for an empty set; ForAnyValue needs one match', () => {
    // GIVEN
    const all = allowIf({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['project', 'branch', 'commit'] } });
    const any = allowIf({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['project'] } });
    // WHEN / THEN
    expect(decide(all, { 'aws:TagKeys': ['project', 'commit'] })).toBe(true);
    expect(decide(all, { 'aws:TagKeys': ['project', 'admin'] })).toBe(false);
    expect(decide(all, {})).toBe(true);
    expect(decide(any, { 'aws:TagKeys': ['branch', 'project'] })).toBe(true);
    expect(decide(any, { 'aws:TagKeys': ['branch'] })).toBe(false);
    expect(decide(any, {})).toBe(false);
  });

  it('ForAllValues:StringLike needs every value to match a pattern; an absent key passes', () => {
    // GIVEN the partition keys a request touches
    const records = allowIf({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['deploy#*'] } });
    // WHEN / THEN
    expect(decide(records, { 'dynamodb:LeadingKeys': ['deploy#1'] })).toBe(true);
    expect(decide(records, { 'dynamodb:LeadingKeys': ['deploy#1', 'lane#web'] })).toBe(false);
    expect(decide(records, { 'dynamodb:LeadingKeys': ['lane#web'] })).toBe(false);
    expect(decide(records, {})).toBe(true);
  });

  it('…IfExists holds when the key is absent, and is the operator itself when present', () => {
    // GIVEN
    const none = allowIf({ StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' } });
    // WHEN / THEN
    expect(decide(none, {})).toBe(true);
    expect(decide(none, { 'dynamodb:ReturnValues': 'NONE' })).toBe(true);
    expect(decide(none, { 'dynamodb:ReturnValues': 'ALL_NEW' })).toBe(false);
  });

  it('needs every operator and every key of a block (AND), and reads key names case-insensitively', () => {
    // GIVEN two conditions
    const both = allowIf({
      StringEquals: { 'iam:ResourceTag/iwomp:deploy-role': 'true' },
      StringLike: { 'STS:SOURCEIDENTITY': 'a*' },
    });
    // WHEN / THEN
    expect(decide(both, { 'iam:ResourceTag/iwomp:deploy-role': 'true', 'sts:SourceIdentity': 'ab' })).toBe(
      true,
    );
    expect(decide(both, { 'iam:ResourceTag/iwomp:deploy-role': 'true', 'sts:SourceIdentity': 'b' })).toBe(
      false,
    );
    expect(decide(both, { 'iam:ResourceTag/iwomp:deploy-role': 'false', 'sts:SourceIdentity': 'ab' })).toBe(
      false,
    );
    // tag keys after the slash are compared exactly
    expect(decide(both, { 'iam:ResourceTag/IWOMP:deploy-role': 'true', 'sts:SourceIdentity': 'ab' })).toBe(
      false,
    );
  });
});

describe('trust policies', () => {
  const trustWorker = doc({ Effect: 'Allow', Principal: { AWS: WORKER }, Action: 'sts:AssumeRole' });

  it('matches a role ARN principal to that role only, an account root to the whole account', () => {
    // GIVEN a trust naming the worker role, and one naming the account
    const trustAccount = doc({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'sts:AssumeRole',
    });
    const trustAccountId = doc({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' });
    // WHEN / THEN
    expect(evaluateTrust(trustWorker, { action: 'sts:AssumeRole', principalRoleArn: WORKER })).toBe('allow');
    expect(evaluateTrust(trustWorker, { action: 'sts:AssumeRole', principalRoleArn: OTHER })).toBe(
      'implicit-deny',
    );
    expect(evaluateTrust(trustAccount, { action: 'sts:AssumeRole', principalRoleArn: OTHER })).toBe('allow');
    expect(evaluateTrust(trustAccountId, { action: 'sts:AssumeRole', principalRoleArn: OTHER })).toBe(
      'allow',
    );
    expect(
      evaluateTrust(trustAccount, {
        action: 'sts:AssumeRole',
        principalRoleArn: 'arn:aws:iam::999999999999:role/iwomp-worker',
      }),
    ).toBe('implicit-deny');
  });

  it('never matches a role session to a service principal', () => {
    // GIVEN a trust for CodeBuild
    const service = doc({
      Effect: 'Allow',
      Principal: { Service: 'codebuild.amazonaws.com' },
      Action: 'sts:AssumeRole',
    });
    // WHEN / THEN
    expect(evaluateTrust(service, { action: 'sts:AssumeRole', principalRoleArn: WORKER })).toBe(
      'implicit-deny',
    );
  });

  it('throws on session ARNs and users as principals', () => {
    // GIVEN principals the evaluator does not model
    for (const AWS of [
      `arn:aws:sts::${ACCOUNT}:assumed-role/iwomp-worker/s`,
      `arn:aws:iam::${ACCOUNT}:user/u`,
    ]) {
      // WHEN / THEN
      expect(() =>
        evaluateTrust(doc({ Effect: 'Allow', Principal: { AWS }, Action: 'sts:AssumeRole' }), {
          action: 'sts:AssumeRole',
          principalRoleArn: WORKER,
        }),
      ).toThrow(UnsupportedPolicyError);
    }
  });
});

describe('canAssumeRole', () => {
  // The containment shape: the worker may assume roles tagged as deploy roles, with a source
  // identity and session tags; a deploy role trusts only the worker and requires the source identity.
  const workerPolicy = doc(
    {
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
      Resource: `arn:aws:iam::${ACCOUNT}:role/iwomp-deploy/*`,
      Condition: { StringEquals: { 'iam:ResourceTag/iwomp:deploy-role': 'true' } },
    },
    {
      Effect: 'Deny',
      Action: 'sts:TagSession',
      Resource: '*',
      Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['admin'] } },
    },
  );
  const deployTrust = doc(
    {
      Effect: 'Allow',
      Principal: { AWS: WORKER },
      Action: 'sts:AssumeRole',
      Condition: { StringLike: { 'sts:SourceIdentity': 'iwomp:*' } },
    },
    { Effect: 'Allow', Principal: { AWS: WORKER }, Action: ['sts:SetSourceIdentity', 'sts:TagSession'] },
  );
  const question = (over: Partial<AssumeRoleQuestion> = {}): AssumeRoleQuestion => ({
    caller: { roleArn: WORKER, identityPolicies: [workerPolicy] },
    target: { roleArn: DEPLOY_A, trustPolicy: deployTrust, tags: { 'iwomp:deploy-role': 'true' } },
    sourceIdentity: 'iwomp:project-a',
    sessionTags: { project: 'project-a', branch: 'main' },
    ...over,
  });

  it('allows the worker to assume a deploy role with source identity and tags', () => {
    // GIVEN / WHEN
    const answer = canAssumeRole(question());
    // THEN every needed action is allowed on both sides
    expect(answer).toMatchObject({ allowed: true, reason: '' });
    expect(answer.checks.map((c) => c.action)).toEqual([
      'sts:AssumeRole',
      'sts:SetSourceIdentity',
      'sts:TagSession',
    ]);
  });

  it('denies without the source identity the trust requires', () => {
    // GIVEN / WHEN
    const answer = canAssumeRole(question({ sourceIdentity: undefined as never }));
    const { sourceIdentity: _, ...rest } = question();
    // THEN
    expect(canAssumeRole(rest).allowed).toBe(false);
    expect(answer.allowed).toBe(false);
    expect(canAssumeRole({ ...rest, sourceIdentity: 'project-a' }).reason).toMatch(
      /sts:AssumeRole: identity policy allow, trust policy implicit-deny/,
    );
  });

  it('denies another caller even when its own policy allows everything', () => {
    // GIVEN a project role with admin rights, not trusted by the deploy role
    const admin = doc({ Effect: 'Allow', Action: '*', Resource: '*' });
    // WHEN
    const answer = canAssumeRole(question({ caller: { roleArn: OTHER, identityPolicies: [admin] } }));
    // THEN
    expect(answer.allowed).toBe(false);
    expect(answer.reason).toMatch(/trust policy implicit-deny/);
  });

  it('denies a trusted caller whose identity policy does not allow the target', () => {
    // GIVEN a role not tagged as a deploy role, although it trusts the worker
    const answer = canAssumeRole(
      question({ target: { roleArn: DEPLOY_A, trustPolicy: deployTrust, tags: {} } }),
    );
    // THEN
    expect(answer.allowed).toBe(false);
    expect(answer.reason).toMatch(/identity policy implicit-deny/);
  });

  it('requires sts:TagSession on both sides for session tags, and honours a Deny on a tag key', () => {
    // GIVEN a trust without sts:TagSession
    const noTags = doc({
      Effect: 'Allow',
      Principal: { AWS: WORKER },
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
    });
    // WHEN / THEN
    expect(
      canAssumeRole(
        question({
          target: { roleArn: DEPLOY_A, trustPolicy: noTags, tags: { 'iwomp:deploy-role': 'true' } },
        }),
      ).reason,
    ).toMatch(/^sts:TagSession: identity policy allow, trust policy implicit-deny/);
    expect(canAssumeRole(question({ sessionTags: { admin: 'yes' } })).reason).toMatch(
      /^sts:TagSession: identity policy explicit-deny/,
    );
    // without tags, sts:TagSession is not needed
    const { sessionTags: _, ...untagged } = question({
      target: { roleArn: DEPLOY_A, trustPolicy: noTags, tags: { 'iwomp:deploy-role': 'true' } },
    });
    expect(canAssumeRole(untagged).allowed).toBe(true);
  });

  it('keeps the source identity of a role chain', () => {
    // GIVEN a caller session that already carries a source identity
    const answer = canAssumeRole(
      question({
        caller: { roleArn: WORKER, identityPolicies: [workerPolicy], sourceIdentity: 'iwomp:project-b' },
      }),
    );
    // THEN it cannot take another one
    expect(answer.allowed).toBe(false);
  });
});
