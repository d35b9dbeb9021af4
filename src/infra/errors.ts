import { IwompError, type IwompErrorOptions } from '../core/errors.js';

/** A construct was given props it cannot build a working pipeline from. The message names the prop. */
export class PipelinePropsError extends IwompError {
  readonly category = 'invalid-input';

  constructor(
    readonly prop: string,
    message: string,
    options?: IwompErrorOptions,
  ) {
    super(`${prop}: ${message}`, options);
    this.name = 'PipelinePropsError';
  }
}
