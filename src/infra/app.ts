/**
 * The CDK app (`cdk.json`): `npx cdk synth` / `npx cdk deploy --all`. Settings come from context,
 * e.g. `npx cdk deploy --all -c iwomp:workerImage=ecr`. Environment-agnostic: synth needs no credentials.
 */
import { App } from 'aws-cdk-lib';
import { IwompError } from '../core/errors.js';
import { addIwompStacks, readAppOptions } from './stacks.js';

const app = new App();
try {
  addIwompStacks(
    app,
    readAppOptions((key) => app.node.tryGetContext(key)),
  );
} catch (error) {
  if (!(error instanceof IwompError)) throw error;
  console.error(`iwomp: ${error.message}`);
  process.exit(1);
}
app.synth();
