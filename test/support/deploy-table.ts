import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { BY_PROJECT_INDEX, BY_PROJECT_KEY, PK, recordToItem } from '../../src/adapters/aws/deploy-table.js';
import type { DeployRecord } from '../../src/core/deploy-record.js';
import type { Moto } from './moto.js';

/**
 * Creates the deploy table in moto as the stack does (docs/lifecycle.md, "The table"): partition
 * key `pk`, no sort key, the `byProject` index (project, createdAt) with every attribute.
 */
export async function createDeployTable(moto: Moto, tableName: string): Promise<DynamoDBClient> {
  const dynamodb = new DynamoDBClient(moto.clientConfig);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: 'S' },
        { AttributeName: BY_PROJECT_KEY, AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: PK, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: BY_PROJECT_INDEX,
          KeySchema: [
            { AttributeName: BY_PROJECT_KEY, KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  return dynamodb;
}

/** Writes a record as the launcher (or the worker's report) would: the whole item, by its key. */
export async function writeRecord(
  dynamodb: DynamoDBClient,
  tableName: string,
  record: DeployRecord,
): Promise<void> {
  await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: recordToItem(record) }));
}
