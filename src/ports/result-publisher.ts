import type { DeployResult } from '../core/deploy-record.js';

/** Where a deploy's final result goes (AWS: the results topic), one message per finished record. */
export interface ResultPublisher {
  publish(result: DeployResult): Promise<void>;
}
