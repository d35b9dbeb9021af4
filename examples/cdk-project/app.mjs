// A small CDK v2 app as a project registered with iwomp-in-aws would have: one SQS queue.
// Legacy synthesis: the stack deploys with the caller's own credentials (the project's deploy
// role) and needs no bootstrap stack, no assets and no CDK bootstrap roles.
import { App, LegacyStackSynthesizer, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';

const app = new App();
const stack = new Stack(app, 'iwomp-example-queue', { synthesizer: new LegacyStackSynthesizer() });
new sqs.Queue(stack, 'Queue');
app.synth();
