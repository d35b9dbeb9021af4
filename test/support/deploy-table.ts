import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { recordToItem } from '../../src/adapters/aws/deploy-table.js';
import type { DeployRecord } from '../../src/core/deploy-record.js';
import { createDeployTable as createTable } from '../launcher/support.js';
import type { Moto } from './moto.js';

/**
 * The deploy table in moto as the stack makes it (the launcher tests' one definition: key `pk`,
 * the `byProject` index, TTL), and a client for it.
 */
export async function createDeployTable(moto: Moto, tableName: string): Promise<DynamoDBClient> {
  const dynamodb = new DynamoDBClient(moto.clientConfig);
  await createTable(dynamodb, tableName);
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
