/**
 * Resolves the CloudFormation intrinsics of a synthesized CDK template the way a deployment into
 * one account and region would, so tests can create its IAM in moto or run its CodeBuild project.
 * Deliberately small: an intrinsic or a reference it cannot resolve throws, never passes through.
 */

/** A CloudFormation template as synthesized (only the parts the harness reads). */
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: unknown }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  Conditions?: Record<string, unknown>;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface ResolveOptions {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Values of `Ref <logicalId>` the harness cannot derive, by logical id (overrides the defaults). */
  readonly refs?: Readonly<Record<string, string>>;
  /** Values of `Fn::GetAtt <logicalId>.<attribute>`, keyed `logicalId.attribute` (overrides the defaults). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** `Fn::ImportValue` values, by export name (other stacks' exports). */
  readonly imports?: Readonly<Record<string, string>>;
  /**
   * The bucket that stands for the CDK asset bucket (`cdk-<qualifier>-assets-<account>-<region>`)
   * wherever it appears in a resolved string.
   * @default - the CDK bucket name is kept
   */
  readonly assetBucket?: string;
}

/** Marks `{ Ref: 'AWS::NoValue' }`: the property is dropped, as CloudFormation does. */
const NO_VALUE = Symbol('AWS::NoValue');

export class TemplateResolver {
  private readonly partition: string;

  constructor(
    readonly template: CfnTemplate,
    readonly options: ResolveOptions,
  ) {
    this.partition = options.partition ?? 'aws';
    if (template.Conditions && Object.keys(template.Conditions).length > 0) {
      // Conditions decide which resources exist: resolving without them would invent a stack.
      throw new Error(
        `cfn-resolve: ${options.stackName} has Conditions, which the harness does not evaluate`,
      );
    }
  }

  /** `value` with every intrinsic resolved. */
  resolve(value: unknown): unknown {
    const resolved = this.walk(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Like `resolve`, for a value that must come out a string. */
  resolveString(value: unknown, what: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`cfn-resolve: ${what} did not resolve to a string`);
    return resolved;
  }

  /** The physical name the harness gives a resource (its name property, or a stable made-up one). */
  physicalName(logicalId: string): string {
    const resource = this.resource(logicalId);
    const nameProperty = NAME_PROPERTIES[resource.Type];
    const given = nameProperty ? resource.Properties?.[nameProperty] : undefined;
    if (given !== undefined) return this.resolveString(given, `${logicalId}.${nameProperty}`);
    // CloudFormation makes `<stack>-<logicalId>-<random>`; a stable name keeps tests repeatable.
    const limit = resource.Type === 'AWS::IAM::Role' || resource.Type === 'AWS::Lambda::Function' ? 64 : 128;
    return `${this.options.stackName}-${logicalId}`.slice(0, limit);
  }

  /** Logical ids of the resources of `type`, in template order. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id]) => id);
  }

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`cfn-resolve: ${this.options.stackName} has no resource ${logicalId}`);
    return resource;
  }

  /** The stack's exports, resolved: export name → value. */
  exports(): Record<string, string> {
    const found: Record<string, string> = {};
    for (const [id, output] of Object.entries(this.template.Outputs ?? {})) {
      if (output.Export === undefined) continue;
      found[this.resolveString(output.Export.Name, `export name of ${id}`)] = this.resolveString(
        output.Value,
        `output ${id}`,
      );
    }
    return found;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.mapAssetBucket(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    const intrinsic =
      keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::')) ? keys[0] : undefined;
    if (intrinsic !== undefined) return this.intrinsic(intrinsic, object[intrinsic]);
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(object)) {
      const resolved = this.walk(child);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(expectString(argument, 'Ref'));
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument)
          ? argument.map((part) => expectString(this.walk(part), 'Fn::GetAtt'))
          : expectString(argument, 'Fn::GetAtt').split(/\.(.*)/s);
        if (!id || !attribute) throw new Error(`cfn-resolve: bad Fn::GetAtt ${JSON.stringify(argument)}`);
        return this.getAtt(id, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [unknown, unknown];
        const list = this.walk(parts);
        if (!Array.isArray(list)) throw new Error('cfn-resolve: Fn::Join needs a list');
        return list
          .map((part) => expectString(part, 'Fn::Join part'))
          .join(expectString(separator, 'Fn::Join'));
      }
      case 'Fn::Sub':
        return this.sub(argument);
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const items = this.walk(list);
        const i = Number(this.walk(index));
        if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new Error(`cfn-resolve: bad Fn::Select ${JSON.stringify(argument)}`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [separator, source] = argument as [unknown, unknown];
        return expectString(this.walk(source), 'Fn::Split').split(expectString(separator, 'Fn::Split'));
      }
      case 'Fn::ImportValue': {
        const exportName = expectString(this.walk(argument), 'Fn::ImportValue');
        const imported = this.options.imports?.[exportName];
        if (imported === undefined)
          throw new Error(`cfn-resolve: no value for Fn::ImportValue ${exportName}`);
        return imported;
      }
      default:
        throw new Error(`cfn-resolve: ${name} is not supported by the harness`);
    }
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::AccountId':
        return this.options.account;
      case 'AWS::Region':
        return this.options.region;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.options.stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.options.region}:${this.options.account}:stack/${this.options.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const given = this.options.refs?.[name];
    if (given !== undefined) return given;
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Default === undefined) throw new Error(`cfn-resolve: parameter ${name} has no default`);
      return parameter.Default;
    }
    const resource = this.resource(name);
    const rule = RULES[resource.Type];
    if (!rule?.ref)
      throw new Error(`cfn-resolve: Ref of ${resource.Type} (${name}) is not known to the harness`);
    return rule.ref(this.context(name));
  }

  private getAtt(id: string, attribute: string): string {
    const given = this.options.attributes?.[`${id}.${attribute}`];
    if (given !== undefined) return given;
    const resource = this.resource(id);
    const rule = RULES[resource.Type]?.attributes?.[attribute];
    if (!rule) {
      throw new Error(
        `cfn-resolve: Fn::GetAtt ${id}.${attribute} (${resource.Type}) is not known to the harness`,
      );
    }
    return rule(this.context(id));
  }

  private sub(argument: unknown): string {
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    const local = this.walk(variables) as Record<string, unknown>;
    return expectString(text, 'Fn::Sub').replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in local) return expectString(local[name], `Fn::Sub ${name}`);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      const value = this.ref(name);
      if (typeof value !== 'string') throw new Error(`cfn-resolve: Fn::Sub ${whole} is not a string`);
      return value;
    });
  }

  private mapAssetBucket(value: string): string {
    const bucket = this.options.assetBucket;
    if (bucket === undefined) return value;
    // Only the resolved CDK bucket name of this account and region is mapped.
    const pattern = new RegExp(`cdk-[a-z0-9]+-assets-${this.options.account}-${this.options.region}`, 'g');
    return value.replace(pattern, bucket);
  }

  private context(logicalId: string): RuleContext {
    const { account, region } = this.options;
    return {
      name: this.physicalName(logicalId),
      account,
      region,
      properties: this.template.Resources[logicalId]?.Properties ?? {},
      resolve: (v) => this.resolve(v),
      arn: (service, resource, options = {}) =>
        `arn:${this.partition}:${service}:${options.global ? '' : region}:${options.noAccount ? '' : account}:${resource}`,
    };
  }
}

interface RuleContext {
  name: string;
  account: string;
  region: string;
  properties: Record<string, unknown>;
  resolve(value: unknown): unknown;
  arn(service: string, resource: string, options?: { global?: boolean; noAccount?: boolean }): string;
}

interface Rule {
  ref?: (c: RuleContext) => string;
  attributes?: Record<string, (c: RuleContext) => string>;
}

/** The property that names each resource type, when the template sets it. */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::Policy': 'PolicyName',
  'AWS::CodeBuild::Project': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::SSM::Parameter': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
};

function queueUrl(c: RuleContext): string {
  return `https://sqs.${c.region}.amazonaws.com/${c.account}/${c.name}`;
}

function iamPath(c: RuleContext): string {
  const path = c.properties.Path === undefined ? '/' : c.resolve(c.properties.Path);
  return typeof path === 'string' ? path : '/';
}

/** The label of every resolved DynamoDB stream ARN (see `StreamArn`). */
export const STREAM_LABEL = '2026-01-01T00:00:00.000';

/** What `Ref` and `Fn::GetAtt` return per resource type, as documented for CloudFormation. */
const RULES: Record<string, Rule> = {
  'AWS::IAM::Role': {
    ref: (c) => c.name,
    attributes: {
      Arn: (c) => c.arn('iam', `role${iamPath(c)}${c.name}`, { global: true }),
      RoleId: (c) => `AROA${Buffer.from(c.name).toString('hex').slice(0, 17).toUpperCase()}`,
    },
  },
  'AWS::IAM::ManagedPolicy': {
    ref: (c) => c.arn('iam', `policy${iamPath(c)}${c.name}`, { global: true }),
    attributes: { PolicyArn: (c) => c.arn('iam', `policy${iamPath(c)}${c.name}`, { global: true }) },
  },
  'AWS::IAM::Policy': { ref: (c) => c.name },
  'AWS::CodeBuild::Project': {
    ref: (c) => c.name,
    attributes: { Arn: (c) => c.arn('codebuild', `project/${c.name}`) },
  },
  'AWS::Logs::LogGroup': {
    ref: (c) => c.name,
    attributes: { Arn: (c) => c.arn('logs', `log-group:${c.name}:*`) },
  },
  'AWS::SNS::Topic': {
    ref: (c) => c.arn('sns', c.name),
    attributes: { TopicArn: (c) => c.arn('sns', c.name), TopicName: (c) => c.name },
  },
  'AWS::SQS::Queue': {
    ref: queueUrl,
    attributes: {
      Arn: (c) => c.arn('sqs', c.name),
      QueueName: (c) => c.name,
      QueueUrl: queueUrl,
    },
  },
  'AWS::Lambda::Function': {
    ref: (c) => c.name,
    attributes: { Arn: (c) => c.arn('lambda', `function:${c.name}`) },
  },
  'AWS::S3::Bucket': {
    ref: (c) => c.name,
    attributes: { Arn: (c) => c.arn('s3', c.name, { global: true, noAccount: true }) },
  },
  'AWS::ECR::Repository': {
    ref: (c) => c.name,
    attributes: { Arn: (c) => c.arn('ecr', `repository/${c.name}`) },
  },
  'AWS::SSM::Parameter': { ref: (c) => c.name },
  'AWS::DynamoDB::Table': {
    ref: (c) => c.name,
    attributes: {
      Arn: (c) => c.arn('dynamodb', `table/${c.name}`),
      // A stream's ARN ends in a label DynamoDB picks when it creates the stream (a timestamp):
      // the harness, which resolves before anything is created, uses this fixed one.
      StreamArn: (c) => c.arn('dynamodb', `table/${c.name}/stream/${STREAM_LABEL}`),
    },
  },
};

function expectString(value: unknown, what: string): string {
  if (typeof value !== 'string')
    throw new Error(`cfn-resolve: ${what} expects a string, got ${JSON.stringify(value)}`);
  return value;
}
