/**
 * Scoped trigger topics: besides the pipeline's main topic (every project), a topic may carry the
 * list of projects it can trigger. A CI identity allowed to publish only there can deploy only
 * those projects. The launcher can trust the topic a record came from: SNS sets `TopicArn`, the
 * publisher cannot.
 */

import { readVar } from './env-vars.js';
import { EnvironmentError } from './errors.js';
import { parseProjectName } from './names.js';

/** The launcher's environment variable holding the scopes, as JSON: `[{"topicArn","projects"}]`. */
export const TOPIC_PROJECTS_VAR = 'IWOMP_TOPIC_PROJECTS';

/** Topic ARN → the projects a trigger published there may name. A topic not listed is unrestricted. */
export type TopicScopes = ReadonlyMap<string, ReadonlySet<string>>;

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/;

/** Reads the JSON the construct writes into {@link TOPIC_PROJECTS_VAR}. */
export function parseTopicScopes(text: string): TopicScopes {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EnvironmentError(TOPIC_PROJECTS_VAR, 'is not JSON');
  }
  if (!Array.isArray(value)) {
    throw new EnvironmentError(TOPIC_PROJECTS_VAR, 'expected a list of {"topicArn","projects"}');
  }
  const scopes = new Map<string, ReadonlySet<string>>();
  for (const item of value as unknown[]) {
    const { topicArn, projects } = (item ?? {}) as { topicArn?: unknown; projects?: unknown };
    if (typeof topicArn !== 'string' || !TOPIC_ARN.test(topicArn)) {
      throw new EnvironmentError(
        TOPIC_PROJECTS_VAR,
        `expected an SNS topic ARN, got ${JSON.stringify(topicArn)}`,
      );
    }
    if (!Array.isArray(projects) || projects.length === 0) {
      throw new EnvironmentError(TOPIC_PROJECTS_VAR, `topic ${topicArn} lists no projects`);
    }
    if (scopes.has(topicArn))
      throw new EnvironmentError(TOPIC_PROJECTS_VAR, `topic ${topicArn} is listed twice`);
    scopes.set(
      topicArn,
      new Set(projects.map((project) => readVar(TOPIC_PROJECTS_VAR, () => parseProjectName(project)))),
    );
  }
  return scopes;
}

/**
 * Why a trigger for `project` arriving from `topicArn` is refused, or undefined when the topic
 * may trigger it (a topic without a scope may trigger every project). With scopes, a record
 * that names no topic is refused: SNS always names it, so such a record did not come through SNS.
 */
export function topicRefusal(
  scopes: TopicScopes,
  topicArn: string | undefined,
  project: string,
): string | undefined {
  if (scopes.size === 0) return undefined;
  if (topicArn === undefined) return 'record has no Sns.TopicArn, so its project scope is unknown';
  const allowed = scopes.get(topicArn);
  if (allowed === undefined || allowed.has(project)) return undefined;
  return `project ${JSON.stringify(project)} cannot be triggered through topic ${topicArn}: it may trigger only ${[...allowed].join(', ')}`;
}
