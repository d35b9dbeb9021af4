import { App } from 'aws-cdk-lib';
import type { IwompPipeline } from '../../src/infra/iwomp-pipeline.js';
import { addIwompStacks } from '../../src/infra/stacks.js';
import { cdkJsonContext } from '../infra/helpers.js';
import type { CfnTemplate } from '../support/cfn-resolve.js';
import {
  type EmulatedProject,
  loadCodeBuildProject,
  stackFromAssembly,
} from '../support/codebuild-emulator.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createTemplateIam, type TemplateIam } from '../support/template-iam.js';

export interface SeedAppInMoto {
  readonly moto: Moto;
  /** The stacks' roles and policies as created in moto. */
  readonly iam: TemplateIam;
  /** The worker's CodeBuild project, ready for the emulator. */
  readonly project: EmulatedProject;
  /** The `iwomp` stack's template. */
  readonly iwompTemplate: CfnTemplate;
}

/**
 * The seed app with the demo project (`addIwompStacks(app, { demo: true })`), synthesized into
 * `outdir` with its bundles, and its roles and policies created in a moto that enforces IAM, in
 * deploy order (the pipeline, then the deploy roles that trust its worker). `extend` may add to
 * the pipeline before synthesis.
 */
export async function seedAppInMoto(
  outdir: string,
  extend: (pipeline: IwompPipeline) => void = () => undefined,
): Promise<SeedAppInMoto> {
  // moto boots (a Python process) while the app synthesizes.
  const motoStarting = startMoto({ enforceIam: true });
  const app = new App({ outdir, context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': ['iwomp'] } });
  extend(addIwompStacks(app, { demo: true }).iwomp.pipeline);
  const assembly = app.synth();
  const iwomp = stackFromAssembly(assembly, 'iwomp');
  const policies = assembly.getStackByName('iwomp-policies').template as CfnTemplate;
  const moto = await motoStarting;
  const iam = await createTemplateIam(moto, [
    { stackName: 'iwomp', template: iwomp.template },
    { stackName: 'iwomp-policies', template: policies },
  ]);
  const project = loadCodeBuildProject(iwomp, { account: moto.account, region: moto.region });
  return { moto, iam, project, iwompTemplate: iwomp.template };
}
