import { IwompError, type IwompErrorOptions } from '../core/errors.js';

/** No job with this id in the local state directory. */
export class JobNotFoundError extends IwompError {
  readonly category = 'not-found';

  constructor(
    readonly jobId: string,
    readonly stateDir: string,
  ) {
    super(`no local job '${jobId}' in ${stateDir} (see: iwomp jobs list)`);
    this.name = 'JobNotFoundError';
  }
}

/** The local state directory (jobs, queue, registry) cannot be read or written, or holds a broken file. */
export class LocalStateError extends IwompError {
  readonly category = 'unavailable';

  constructor(message: string, options?: IwompErrorOptions) {
    super(message, options);
    this.name = 'LocalStateError';
  }
}
