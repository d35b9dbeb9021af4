import {
  type CodeBuildClient,
  CreateProjectCommand,
  ListBuildsForProjectCommand,
} from '@aws-sdk/client-codebuild';
import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import {
  ACTIVE,
  ACTIVE_LANES_INDEX,
  BY_PROJECT_INDEX,
  EXPIRES_AT,
  PK,
} from '../../src/adapters/aws/deploy-table.js';
import type { OutcomeLogger } from '../../src/launcher/handle-sns-event.js';
import type { Moto, RecordedRequest } from '../support/moto.js';

/** One outcome line as the handler logged it. */
export interface LoggedLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

/** An OutcomeLogger that keeps its lines, for assertions on what was logged. */
export function recordingLogger(): OutcomeLogger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at = (level: LoggedLine['level']) => (message: string, attributes: Record<string, unknown>) =>
    lines.push({ level, message, attributes });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Creates the worker's CodeBuild project in moto. The real one has no source (the worker is in its
 * image); moto insists on a source location, so this one names an S3 object it never reads.
 */
export async function createWorkerProject(codebuild: CodeBuildClient, name: string): Promise<void> {
  await codebuild.send(
    new CreateProjectCommand({
      name,
      source: { type: 'S3', location: 'iwomp-test-bucket/worker.zip' },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
      },
      serviceRole: 'arn:aws:iam::123456789012:role/iwomp-worker',
    }),
  );
}

export async function buildCount(codebuild: CodeBuildClient, project: string): Promise<number> {
  const out = await codebuild.send(new ListBuildsForProjectCommand({ projectName: project }));
  return out.ids?.length ?? 0;
}

/** Registers a project document in SSM, as `iwomp projects put` would. */
export async function register(
  ssm: SSMClient,
  configPath: string,
  project: string,
  doc: Record<string, unknown>,
  secure = false,
): Promise<void> {
  await ssm.send(
    new PutParameterCommand({
      Name: `/${configPath}/${project}`,
      Value: JSON.stringify(doc),
      Type: secure ? 'SecureString' : 'String',
      Overwrite: true,
    }),
  );
}

/** StartBuild requests that reached moto since recording started, with their JSON bodies. */
export async function startBuildRequests(moto: Moto): Promise<Array<Record<string, unknown>>> {
  const requests: RecordedRequest[] = await moto.recordedRequests();
  return requests
    .filter((r) => headerOf(r, 'x-amz-target') === 'CodeBuild_20161006.StartBuild')
    .map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

function headerOf(request: RecordedRequest, name: string): string | undefined {
  const key = Object.keys(request.headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : request.headers[key];
}

/** An SNS→Lambda event with one record per message, shaped as AWS documents it. */
export function snsEvent(...records: Array<{ messageId: string; message: string }>): {
  Records: unknown[];
} {
  return {
    Records: records.map(({ messageId, message }) => ({
      EventVersion: '1.0',
      EventSubscriptionArn:
        'arn:aws:sns:us-east-1:123456789012:iwomp-jobs:21be56ed-a058-49f5-8c98-aedd2564c486',
      EventSource: 'aws:sns',
      Sns: {
        SignatureVersion: '1',
        Timestamp: '2019-01-02T12:45:07.000Z',
        Signature: 'EXAMPLE',
        SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem',
        MessageId: messageId,
        Message: message,
        MessageAttributes: {},
        Type: 'Notification',
        UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=EXAMPLE',
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:iwomp-jobs',
        Subject: null,
      },
    })),
  };
}

/** Creates the deploy table in moto as the stack does (docs/lifecycle.md, "The table"). */
export async function createDeployTable(dynamodb: DynamoDBClient, name: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: 'S' },
        { AttributeName: 'project', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
        { AttributeName: ACTIVE, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: PK, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: BY_PROJECT_INDEX,
          KeySchema: [
            { AttributeName: 'project', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: ACTIVE_LANES_INDEX,
          KeySchema: [{ AttributeName: ACTIVE, KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: EXPIRES_AT, Enabled: true },
    }),
  );
}
