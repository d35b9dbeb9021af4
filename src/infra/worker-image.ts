import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { PipelinePropsError } from './errors.js';

/** Options of {@link WorkerImage.managed}. */
export interface ManagedWorkerImageOptions {
  /**
   * A CodeBuild curated image with Node.js 20 or later. A Lambda image
   * (`LinuxLambdaBuildImage`, `LinuxArmLambdaBuildImage`) runs the worker on Lambda compute.
   * @default codebuild.LinuxBuildImage.STANDARD_7_0
   */
  readonly buildImage?: codebuild.IBuildImage;
  /**
   * Node.js major version selected with the buildspec's `runtime-versions`. Lambda images have
   * one runtime and no `runtime-versions`, so this must stay unset with them.
   * @default '22' on EC2 images; none on Lambda images
   */
  readonly nodeVersion?: string;
}

/** Options of {@link WorkerImage.ecrRepository}. */
export interface EcrWorkerImageOptions {
  /**
   * Name of the ECR repository the construct creates.
   * @default 'iwomp-in-aws'
   */
  readonly repositoryName?: string;
  /**
   * Image tag the worker runs.
   * @default 'latest'
   */
  readonly tag?: string;
}

/** Default curated image: Ubuntu standard 7.0 has git, Docker and Node.js 18–22, and is cached on build hosts. */
const DEFAULT_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0;
const DEFAULT_NODE = '22';
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The image the CodeBuild worker runs in.
 *
 * - {@link WorkerImage.managed} (default): a CodeBuild curated image; the bundled worker travels
 *   as an S3 asset that is the project's source. No Docker, no image to push.
 * - {@link WorkerImage.ecrRepository}: the seed's way. The construct creates the ECR repository;
 *   you build and push an image with your deployment tools and `iwomp-worker` on its PATH.
 */
export class WorkerImage {
  /** A CodeBuild curated image carrying the bundled worker as an asset. */
  static managed(options: ManagedWorkerImageOptions = {}): WorkerImage {
    const buildImage = options.buildImage ?? DEFAULT_IMAGE;
    const lambda = isLambdaImage(buildImage);
    if (options.nodeVersion !== undefined) {
      if (lambda) {
        throw new PipelinePropsError(
          'nodeVersion',
          'Lambda build images have a single Node.js runtime and no runtime-versions; leave nodeVersion unset',
        );
      }
      if (!/^[0-9]{2,3}$/.test(options.nodeVersion)) {
        throw new PipelinePropsError(
          'nodeVersion',
          `expected a Node.js major version such as '22', got ${JSON.stringify(options.nodeVersion)}`,
        );
      }
      if (Number(options.nodeVersion) < 20) {
        throw new PipelinePropsError(
          'nodeVersion',
          `the worker bundle targets Node.js 20 or later, got ${options.nodeVersion}`,
        );
      }
    }
    return new WorkerImage({
      kind: 'managed',
      buildImage,
      lambda,
      ...(lambda ? {} : { nodeVersion: options.nodeVersion ?? DEFAULT_NODE }),
    });
  }

  /** Your own image in the ECR repository `iwomp-in-aws` (created by the construct), with `iwomp-worker` on its PATH. */
  static ecrRepository(options: EcrWorkerImageOptions = {}): WorkerImage {
    const tag = options.tag ?? 'latest';
    if (!TAG.test(tag)) {
      throw new PipelinePropsError('tag', `not a valid image tag: ${JSON.stringify(tag)}`);
    }
    return new WorkerImage({
      kind: 'ecr',
      repositoryName: options.repositoryName ?? 'iwomp-in-aws',
      tag,
      lambda: false,
    });
  }

  /** @internal */
  readonly spec: WorkerImageSpec;

  private constructor(spec: WorkerImageSpec) {
    this.spec = spec;
  }
}

/** @internal What the construct needs to know about the chosen image. */
export type WorkerImageSpec =
  | {
      readonly kind: 'managed';
      readonly buildImage: codebuild.IBuildImage;
      readonly lambda: boolean;
      readonly nodeVersion?: string;
    }
  | { readonly kind: 'ecr'; readonly repositoryName: string; readonly tag: string; readonly lambda: false };

function isLambdaImage(image: codebuild.IBuildImage): boolean {
  return (
    image instanceof codebuild.LinuxLambdaBuildImage || image instanceof codebuild.LinuxArmLambdaBuildImage
  );
}
